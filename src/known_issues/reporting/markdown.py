"""Text from results and case files, made safe for Markdown that people paste and GitHub renders.

What a test printed or a case quotes can hold anything (``__future__``, pipes, HTML): it must read
as the same text once rendered, and never as markup.
"""

from __future__ import annotations

import html
import re

# Characters that change what Markdown renders inline (emphasis, code, links, tables, strikethrough).
_INLINE = re.compile(r"([\\`*_\[\]|~])")
# At the start of a line these open a heading, a list, a quote or a table row.
_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+[.)])")


def text(value: object) -> str:
    """Plain text for a Markdown paragraph or quote: HTML escaped, markup characters backslashed."""
    escaped = _INLINE.sub(r"\\\1", html.escape(str(value), quote=False))
    return "\n".join(_LINE_START.sub(_escape_start, line) for line in escaped.splitlines())


def _escape_start(match: re.Match[str]) -> str:
    lead, mark = match.group(1), match.group(2)
    return f"{lead}{mark[:-1]}\\{mark[-1]}" if mark[-1] in ".)" else f"{lead}\\{mark}"


def quote(value: object) -> str:
    """A block quote of the text, every line of it."""
    return "\n".join(f"> {line}" if line else ">" for line in text(value).splitlines())


def code(value: object) -> str:
    """Inline code that holds the text as it is (a fence longer than any run of backticks in it)."""
    body = " ".join(str(value).split())
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


def fenced(value: object, info: str = "text") -> str:
    """A fenced block that shows the text verbatim, however many backticks it holds."""
    body = str(value).rstrip("\n")
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def cell(value: object) -> str:
    """Text for one table cell: one line, pipes and markup escaped."""
    return " ".join(text(value).split())
