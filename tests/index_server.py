"""A package index on 127.0.0.1 for the tests: the standard Simple API (PEP 691 JSON, or PEP 503 HTML)
serving one planted project, with real wheels, and the log of every request it answered."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape

NAME = "planted-pkg"
JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Planted:
    version: str
    requires_python: str | None
    upload_time: str | None
    yanked: bool = False
    metadata_apart: bool = False  # served as <wheel>.metadata (PEP 658), else read from the wheel
    project_urls: tuple[tuple[str, str], ...] = ()

    @property
    def wheel_name(self) -> str:
        return f"planted_pkg-{self.version}-py3-none-any.whl"

    def metadata(self) -> str:
        lines = ["Metadata-Version: 2.1", f"Name: {NAME}", f"Version: {self.version}"]
        if self.requires_python:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines += [f"Project-URL: {label}, {url}" for label, url in self.project_urls]
        return "\n".join(lines) + "\n\n"

    def wheel(self) -> bytes:
        info = f"planted_pkg-{self.version}.dist-info"
        files = {
            "planted_pkg/__init__.py": f"VERSION = {self.version!r}\n",
            f"{info}/METADATA": self.metadata(),
            f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        }
        record = [f"{path},sha256={_b64(text.encode())},{len(text.encode())}" for path, text in files.items()]
        files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for path, text in files.items():
                archive.writestr(path, text)
        return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class Request:
    path: str
    accept: str
    authorization: str


@dataclass
class Index:
    base: str  # the Simple API's base, as a user would configure it
    requests: list[Request] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def routes(releases: list[Planted], form: str = "json", api_version: str = "1.1") -> dict[str, tuple[str, bytes]]:
    """What the index serves: the project page (``form``: json or html) and each wheel (and its metadata)."""
    served: dict[str, tuple[str, bytes]] = {}
    files = []
    for release in releases:
        wheel = release.wheel()
        served[f"/files/{release.wheel_name}"] = ("application/octet-stream", wheel)
        entry: dict[str, object] = {
            "filename": release.wheel_name,
            "url": f"../../files/{release.wheel_name}",  # relative to the project page, as PEP 691 allows
            "hashes": {"sha256": hashlib.sha256(wheel).hexdigest()},
            "requires-python": release.requires_python,
            "yanked": "planted as broken" if release.yanked else False,
            "size": len(wheel),
        }
        if release.upload_time and api_version != "1.0":
            entry["upload-time"] = release.upload_time
        if release.metadata_apart:
            metadata = release.metadata().encode()
            served[f"/files/{release.wheel_name}.metadata"] = ("text/plain", metadata)
            entry["core-metadata"] = {"sha256": hashlib.sha256(metadata).hexdigest()}
        files.append(entry)
    if form == "json":
        page = {"meta": {"api-version": api_version}, "name": NAME, "files": files}
        served[f"/simple/{NAME}/"] = (JSON, json.dumps(page).encode())
    else:
        served[f"/simple/{NAME}/"] = ("text/html", _html(files, api_version).encode())
    return served


def _html(files: list[dict[str, object]], api_version: str) -> str:
    anchors = []
    for f in files:
        attrs = [f'href="{escape(str(f["url"]))}#sha256={f["hashes"]["sha256"]}"']  # type: ignore[index]
        if f["requires-python"]:
            attrs.append(f'data-requires-python="{escape(str(f["requires-python"]))}"')
        if f["yanked"]:
            attrs.append(f'data-yanked="{escape(str(f["yanked"]))}"')
        if "core-metadata" in f:
            attrs.append('data-core-metadata="true"')
        anchors.append(f"<a {' '.join(attrs)}>{f['filename']}</a><br/>")
    return (
        f'<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="{api_version}">'
        f"<title>Links for {NAME}</title></head><body>{''.join(anchors)}</body></html>"
    )


@contextmanager
def serve(served: dict[str, tuple[str, bytes]]) -> Iterator[Index]:
    index = Index("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = self.headers
            index.requests.append(Request(self.path, headers.get("Accept", ""), headers.get("Authorization", "")))
            body = self._head()
            if body:
                self.wfile.write(body)

        def do_HEAD(self) -> None:  # uv asks whether a wheel can be read in ranges
            self._head()

        def _head(self) -> bytes:
            if self.path not in served:
                self.send_error(404)
                return b""
            content_type, body = served[self.path]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return body

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    index.base = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
