"""Chapters: find chapter headings in a stream of paragraphs and split the stream there.

A heading is a short single-line paragraph such as "CHAPTER IV", "Chapter 12. The Chase",
"BOOK II", "PART ONE", "Epilogue", or (in Markdown) "# Title". Headings with no text between
them (a table of contents, "VOLUME I" right before "CHAPTER I") collapse into the last one, so
a table of contents never produces empty chapters. Text before the first heading is kept as a
first chapter (front matter); a text without headings is a single chapter.

The stream form (`iter_chapter_stream`) yields `ChapterStart` markers and paragraphs, lazily;
`collect_chapters` turns such a stream into a list of `Chapter`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_NUMBER = (
    r"(?:[IVXLCDM]+|\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty(?:[- ]\w+)?|thirty(?:[- ]\w+)?|"
    r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last)"
)
_HEADING = re.compile(
    # "Chapter 12", "CHAPTER IV. The Chase", "Chapter the First", "Book II: Title" -- but not
    # "Chapter 12 was the longest...": a title after the number needs a separator or a capital.
    rf"^(?:(?:chapter|book|part|volume|stave|canto|letter|section)\s+(?:the\s+)?{_NUMBER}"
    r"(?:[.:—–-]?|[.:—–-]\s*\S.*|(?-i:\s+[^a-z\s].*))"
    r"|(?:prologue|epilogue|preface|introduction|foreword|afterword|conclusion|appendix)[.:]?(?:\s+\S.*)?)$",
    re.IGNORECASE,
)
_MARKDOWN_HEADING = re.compile(r"^#{1,3}\s+(\S.*?)\s*#*$")
#: Longest paragraph that can be a heading.
MAX_HEADING_CHARS = 120


@dataclass(frozen=True)
class ChapterStart:
    """Marker in a paragraph stream: a new chapter with this title begins."""

    title: str


@dataclass
class Chapter:
    """One chapter: its title and its cleaned text (paragraphs separated by blank lines, NFC)."""

    title: str
    text: str


def heading_title(paragraph: str, markdown: bool = False) -> str | None:
    """The chapter title if `paragraph` is a chapter heading, else None."""
    if len(paragraph) > MAX_HEADING_CHARS or "\n" in paragraph:
        return None
    if markdown:
        match = _MARKDOWN_HEADING.match(paragraph)
        if match:
            return match.group(1)
    if _HEADING.match(paragraph):
        # "Epilogue" and "Chapter 12. The Chase" are headings (titles may run to two lines);
        # a longer paragraph that merely starts with "Book two of ..." is prose.
        if len(paragraph.split()) > 20:
            return None
        return paragraph.rstrip(".:")
    return None


def iter_chapter_stream(paragraphs: Iterable[str], markdown: bool = False) -> Iterator[str | ChapterStart]:
    """Paragraphs -> ChapterStart markers and paragraphs; the first item is always a ChapterStart.

    A heading is announced only once a paragraph of body text follows it, so consecutive
    headings (a table of contents) collapse into the last one. Text before the first heading
    is a chapter titled "Front matter" (`read_document` renames a lone one after the book).
    """
    pending: str | None = "Front matter"
    for paragraph in paragraphs:
        title = heading_title(paragraph, markdown)
        if title is not None:
            pending = title
            continue
        if pending is not None:
            yield ChapterStart(pending)
            pending = None
        yield paragraph


def collect_chapters(stream: Iterable[str | ChapterStart]) -> list[Chapter]:
    """A ChapterStart/paragraph stream -> chapters (paragraphs joined with blank lines)."""
    chapters: list[Chapter] = []
    title: str | None = None
    parts: list[str] = []
    for item in stream:
        if isinstance(item, ChapterStart):
            if title is not None and parts:
                chapters.append(Chapter(title, "\n\n".join(parts)))
            title, parts = item.title, []
        else:
            if title is None:
                title = ""
            parts.append(item)
    if title is not None and parts:
        chapters.append(Chapter(title, "\n\n".join(parts)))
    return chapters


def split_paragraphs_into_chapters(paragraphs: list[str], markdown: bool = False) -> list[Chapter]:
    """Convenience: heading detection + collection in one call."""
    return collect_chapters(iter_chapter_stream(paragraphs, markdown=markdown))
