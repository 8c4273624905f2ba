"""Each case's code, coloured as Pygments' "friendly" style does, in about half of Pygments' markup: a
token the style leaves as plain text (names, punctuation, whitespace) is written without a span of its own,
and adjacent tokens of one class share a span, whitespace the one before it (the page carries every case's
files)."""

from __future__ import annotations

from functools import cache

from markupsafe import Markup, escape
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
from pygments.style import StyleMeta
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES, Text, _TokenType

STYLE = "friendly"
CSS_CLASS = "hl"  # the element the style's rules are scoped to


@cache
def _style() -> StyleMeta:
    return get_style_by_name(STYLE)


@cache
def _class_of(ttype: _TokenType) -> str:
    """The class Pygments gives the token type ("" for a token the style does not colour)."""
    if ttype in Text:
        return ""  # whitespace is never seen, whatever colour the style gives it
    shown = _style().style_for_token(ttype)
    if not any(v for k, v in shown.items() if k != "bgcolor"):
        return ""
    suffix = ""
    name: str | None = STANDARD_TYPES.get(ttype)
    while name is None:
        suffix = str(ttype[-1]) + suffix
        ttype = ttype.parent
        name = STANDARD_TYPES.get(ttype)
    return name + suffix


def highlight(code: str) -> Markup:
    runs: list[tuple[str, str]] = []
    for ttype, value in PythonLexer().get_tokens(code):
        css = _class_of(ttype)
        if runs and (runs[-1][0] == css or not value.strip()):
            runs[-1] = (runs[-1][0], runs[-1][1] + value)  # whitespace joins the run before it
        else:
            runs.append((css, value))
    body = "".join(str(escape(text)) if not css else f'<span class="{css}">{escape(text)}</span>' for css, text in runs)
    return Markup(f'<div class="{CSS_CLASS}"><pre>{body}</pre></div>')


def style_css() -> str:
    return str(HtmlFormatter(style=STYLE).get_style_defs(f".{CSS_CLASS}"))
