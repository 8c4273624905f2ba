"""The guide's own text, when it is at hand: what a quote and a printed file are checked against.

The guide is another author's document and is not part of this repository; `check` reads it from
the path in ``KNOWN_ISSUES_GUIDE`` (or ``check --guide PATH``). Without it, quotes and printed files
are checked for their form only.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LABEL = re.compile(r"^\*\*([^*]+?)\*\*[^*]*:\s*$")


@dataclass(frozen=True)
class Block:
    section: str  # the text of the nearest heading above the block
    index: int  # 1 for the first block under that heading
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Hunk:
    """One place where a printed file differs from the guide's block: the guide's lines and ours."""

    guide: str
    ours: str
    line: int  # where it starts in our file (1-based)


@dataclass(frozen=True)
class Guide:
    path: Path
    text: str
    blocks: tuple[Block, ...]

    def contains(self, quote: str) -> bool:
        """The quote is in the guide, whitespace-normalised (line breaks and indentation do not count)."""
        return normalise(quote) in normalise(self.text)

    def block(self, section: str, index: int = 1) -> Block | None:
        found = [b for b in self.blocks if b.section == section]
        return found[index - 1] if 0 < index <= len(found) else None

    def sections(self) -> list[str]:
        return list(dict.fromkeys(b.section for b in self.blocks))

    def heading_of(self, quote: str) -> str:
        """Where the quote first is: its chapter and section ("Known Issues Prevention › Issue #3: ..."),
        "" when it is not in the guide."""
        found = normalise(self.text).find(normalise(quote))
        if found < 0 or not normalise(quote):
            return ""
        where: list[str] = []
        label = ""  # a bold paragraph title under the heading ("**Requirements**:")
        offset = 0
        fence: str | None = None
        for line in self.text.splitlines():
            words = line.split()
            if words and offset > found:
                break
            offset += sum(len(w) + 1 for w in words)
            opened = _FENCE.match(line)
            if fence is not None:
                fence = None if opened and opened.group(1) == fence else fence
                continue
            if opened:
                fence = opened.group(1)
                continue
            heading = _HEADING.match(line)
            if heading and len(heading.group(1)) >= 2:  # the title (#) is the guide's name, not a place in it
                level = len(heading.group(1)) - 2
                where, label = [*where[:level], heading.group(2)], ""
            elif bold := _LABEL.match(line):
                label = bold.group(1)
        return " \u203a ".join([*where, label] if label else where)


def normalise(text: str) -> str:
    return " ".join(text.split())


def load(path: Path) -> Guide:
    text = path.read_text(encoding="utf-8")
    return Guide(path, text, tuple(_blocks(text)))


def _blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    section, counts = "", dict[str, int]()
    fence: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        if fence is not None:
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                counts[section] = counts.get(section, 0) + 1
                blocks.append(Block(section, counts[section], tuple(body)))
                fence, body = None, []
            else:
                body.append(line)
            continue
        opened = _FENCE.match(line)
        if opened:
            fence = opened.group(1)
            continue
        heading = _HEADING.match(line)
        if heading:
            section = heading.group(2)
    return blocks


def differences(block: Block, ours: str) -> list[Hunk]:
    """Where a printed file differs from the guide's block, line by line (trailing spaces aside)."""
    theirs = [line.rstrip() for line in block.lines]
    mine = [line.rstrip() for line in ours.splitlines()]
    # A final blank line of the block, or of the file, is not a difference.
    while theirs and not theirs[-1]:
        theirs.pop()
    while mine and not mine[-1]:
        mine.pop()
    matcher = difflib.SequenceMatcher(a=theirs, b=mine, autojunk=False)
    return [
        Hunk("\n".join(theirs[i1:i2]), "\n".join(mine[j1:j2]), j1 + 1)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]
