"""A package index's standard Simple API: one project's files (PEP 503/691), with their upload times
(PEP 700) where the index gives them, and a distribution's core metadata (PEP 658/714, else the wheel's).

The JSON form is asked for; an index that only serves HTML answers in HTML, read the same way
(without upload times). A base address with credentials (``https://user:token@host/simple``) is
asked with them, and never stored or shown with them.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import ssl
import urllib.request
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit
from urllib.request import url2pathname

from packaging.utils import canonicalize_name

TIMEOUT = 30
MAX_WHEEL = 50 * 1024 * 1024  # a wheel read for its metadata when the index serves none apart
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


@dataclass(frozen=True)
class File:
    filename: str
    url: str  # absolute, without credentials or fragment
    requires_python: str | None = None
    yanked: bool = False
    upload_time: str | None = None  # ISO 8601 (PEP 700); None when the index does not say
    core_metadata: bool = False  # the index serves ``<url>.metadata`` (PEP 658)
    size: int | None = None


@dataclass(frozen=True)
class Project:
    api_version: str
    files: tuple[File, ...]

    def as_dict(self) -> dict[str, Any]:
        # The fields are plain values: a shallow copy is the deep copy asdict() makes file by file.
        return {"api_version": self.api_version, "files": [dict(vars(f)) for f in self.files]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Project:
        return cls(str(data["api_version"]), tuple(File(**f) for f in data["files"]))


def project_page(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{canonicalize_name(name)}/"


def fetch_project(base: str, name: str) -> Project:
    """The files the index lists for ``name``. Raises OSError (urllib's errors among them) or ValueError."""
    body, content_type, where = _get(project_page(base, name), base, ACCEPT)
    if "json" in content_type:
        return _from_json(json.loads(body), where)
    return _from_html(body.decode("utf-8", "replace"), where)


def project_urls(file: File, base: str) -> dict[str, str]:
    """The links a distribution's core metadata names (``Project-URL`` label -> address, and ``Home-page``)."""
    if file.core_metadata:
        text = _get(file.url + ".metadata", base)[0].decode("utf-8", "replace")
    elif file.filename.endswith(".whl") and (file.size or 0) <= MAX_WHEEL:
        text = _wheel_metadata(_get(file.url, base)[0])
    else:
        return {}
    return parse_project_urls(text)


def parse_project_urls(metadata: str) -> dict[str, str]:
    message = HeaderParser().parsestr(metadata)
    urls: dict[str, str] = {}
    for entry in message.get_all("Project-URL") or []:
        label, _, url = str(entry).partition(",")
        if url.strip():
            urls[label.strip()] = url.strip()
    home = str(message.get("Home-page") or "").strip()
    if home and home.upper() != "UNKNOWN":
        urls.setdefault("Homepage", home)
    return urls


# --------------------------------------------------------------------------------------------
# the two forms of a project page


def _from_json(data: dict[str, Any], page: str) -> Project:
    files = []
    for entry in data.get("files", []):
        metadata = entry.get("core-metadata", entry.get("dist-info-metadata", False))
        files.append(
            File(
                filename=str(entry["filename"]),
                url=_absolute(page, str(entry["url"])),
                requires_python=entry.get("requires-python") or None,
                yanked=bool(entry.get("yanked")),
                upload_time=entry.get("upload-time") or None,
                core_metadata=metadata is True or isinstance(metadata, dict),
                size=entry.get("size") if isinstance(entry.get("size"), int) else None,
            )
        )
    return Project(str((data.get("meta") or {}).get("api-version", "1.0")), tuple(files))


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.api_version = "1.0"
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and found.get("name") == "pypi:repository-version":
            self.api_version = found.get("content") or "1.0"
        elif tag == "a":
            self._open, self._text = found, []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
            self._open = None


def _from_html(text: str, page: str) -> Project:
    parser = _Anchors()
    parser.feed(text)
    files = []
    for attrs, label in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url = _absolute(page, href)
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata", "false"))
        files.append(
            File(
                filename=label or unquote(urlsplit(url).path.rsplit("/", 1)[-1]),
                url=url,
                requires_python=attrs.get("data-requires-python") or None,
                yanked="data-yanked" in attrs,
                core_metadata=metadata != "false",
            )
        )
    return Project(parser.api_version, tuple(files))


# --------------------------------------------------------------------------------------------
# fetching


def _absolute(page: str, href: str) -> str:
    url = _without_credentials(urljoin(page, href))[0]
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def _without_credentials(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=host)), userinfo


def _get(url: str, base: str, accept: str | None = None) -> tuple[bytes, str, str]:
    """(body, content type, the address answered from after redirects, without credentials). The
    base's credentials go along to its own host only."""
    plain, userinfo = _without_credentials(url)
    if userinfo is None and urlsplit(plain).hostname == urlsplit(base).hostname:
        userinfo = _without_credentials(base)[1]
    parts = urlsplit(plain)
    if parts.scheme == "file":  # a folder index, as pip reads one: its index.html
        path = Path(url2pathname(parts.path))
        if path.is_dir():
            return (path / "index.html").read_bytes(), "text/html", plain
        return path.read_bytes(), "application/octet-stream", plain
    request = urllib.request.Request(plain)
    if accept:
        request.add_header("Accept", accept)
    if userinfo:
        user, _, password = userinfo.partition(":")
        token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=TIMEOUT, context=_tls()) as response:
        return response.read(), str(response.headers.get("Content-Type", "")), _without_credentials(response.url)[0]


@functools.cache
def _tls() -> ssl.SSLContext:
    """urllib's default TLS context, made once: making it reads the system's certificates again for
    every request (a run asks about dozens of projects)."""
    return ssl.create_default_context()


def _wheel_metadata(wheel: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
            for name in archive.namelist():
                if name.count("/") == 1 and name.endswith(".dist-info/METADATA"):
                    return archive.read(name).decode("utf-8", "replace")
    except zipfile.BadZipFile:
        pass
    return ""
