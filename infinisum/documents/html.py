"""HTML and XHTML to text blocks (the standard library's forgiving HTMLParser; no extra dependency).

`html_blocks` turns markup into a list of `Block`: paragraphs, headings (with their level) and
anchors (element ids, so EPUB table-of-contents fragments can split a file into chapters).
`read_html` builds a Document from one HTML file: chapters start at the most frequent
top-level heading (h1, else h2, else h3 when it occurs at least twice), else at chapter-like
paragraphs ("CHAPTER IV").
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from infinisum.documents.chapters import Chapter, split_paragraphs_into_chapters
from infinisum.documents.cleaning import normalize_line

_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "blockquote",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "td",
    "th",
    "pre",
    "hr",
    "br",
    "body",
    "header",
    "footer",
    "aside",
    "figure",
    "figcaption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "nav",
    "main",
    "address",
    "center",
}
_SKIP_TAGS = {"script", "style", "head", "noscript", "template", "svg", "math", "button", "select", "iframe", "nav"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


@dataclass(frozen=True)
class Block:
    """A piece of an HTML document: kind is "text", "heading" or "anchor"."""

    kind: str
    text: str
    level: int = 0


class _BlockParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title = ""
        self._parts: list[str] = []
        self._skip = 0
        self._in_title = False
        self._heading = 0

    def _flush(self) -> None:
        text = normalize_line(" ".join(self._parts))
        self._parts = []
        if text:
            self.blocks.append(Block("heading" if self._heading else "text", text, self._heading))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _SKIP_TAGS:
            self._skip += 1
            return
        if tag in _BLOCK_TAGS:
            self._flush()
            if tag in _HEADINGS:
                self._heading = _HEADINGS[tag]
        for name, value in attrs:
            if (
                name in ("id", "name")
                and value
                and tag in ("a", "span", "p", "div", "section", "h1", "h2", "h3", "h4", "h5", "h6", "article", "body")
            ):
                self._flush()
                self.blocks.append(Block("anchor", value))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
            return
        if tag in _BLOCK_TAGS:
            self._flush()
            if tag in _HEADINGS:
                self._heading = 0

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if not self._skip:
            self._parts.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_blocks(markup: str) -> tuple[str, list[Block]]:
    """(title from <title>, blocks in document order)."""
    parser = _BlockParser()
    parser.feed(markup)
    parser.close()
    return normalize_line(html.unescape(parser.title)), parser.blocks


def chapters_from_blocks(blocks: list[Block]) -> list[Chapter]:
    """Chapters at the most-used top heading level, else at chapter-like paragraphs.

    Text before the first chapter heading is a "Front matter" chapter.
    """
    levels = [b.level for b in blocks if b.kind == "heading"]
    level = next((lv for lv in (1, 2, 3) if levels.count(lv) >= 2), 0)
    if not level:
        paragraphs = [b.text for b in blocks if b.kind in ("text", "heading")]
        return split_paragraphs_into_chapters(paragraphs)
    chapters: list[Chapter] = []
    title, parts = "Front matter", []
    for block in blocks:
        if block.kind == "heading" and block.level == level:
            if parts:
                chapters.append(Chapter(title, "\n\n".join(parts)))
            title, parts = block.text, []
        elif block.kind in ("text", "heading"):
            parts.append(block.text)
    if parts:
        chapters.append(Chapter(title, "\n\n".join(parts)))
    return chapters


_TAG = re.compile(r"<\s*(html|head|body|!doctype\s+html|p|div|h[1-6])\b", re.IGNORECASE)


def looks_like_html(sample: str) -> bool:
    """True when the start of a text is HTML markup."""
    return bool(_TAG.search(sample[:4096]))
