"""Cleaning: from raw lines to the paragraphs the model reads.

Everything here works on iterators of lines or paragraphs, so a 1 GB text file streams through
without ever being held whole. The steps, in the order a reader applies them:

- `iter_paragraphs`: blank-line separated blocks of lines -> one paragraph each, lines re-flowed
  with single spaces, whitespace normalized, control characters dropped, Unicode NFC.
- `strip_gutenberg`: drop the Project Gutenberg header (up to "*** START OF ...") and the
  licence footer (from "*** END OF ..." / "End of Project Gutenberg's ...").
- `dehyphenate` / `reflow_lines`: for PDF lines, join words hyphenated across line breaks and
  rebuild paragraphs from hard-wrapped lines.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterable, Iterator

#: A paragraph longer than this is cut at a line boundary (files without blank lines must still stream).
MAX_PARAGRAPH_CHARS = 64_000

# C0/C1 control characters, BOM, zero-width and bidi formatting marks: invisible to a reader,
# noise to the model. Tabs and newlines are handled as whitespace.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\u200b\u200c\u200d\u2060\u00ad\u202a-\u202e]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

_GUTENBERG_START = re.compile(
    r"^\s*\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?(?:BOOK|TEXT)"
    r"|^\s*\*END\*THE SMALL PRINT!",
    re.IGNORECASE,
)
_GUTENBERG_END = re.compile(
    r"^\s*\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?(?:BOOK|TEXT)"
    r"|^\s*End of (?:the )?Project Gutenberg(?:'s|’s)? ",
    re.IGNORECASE,
)
# Credit lines right after the header ("Produced by ...") are not part of the book.
_GUTENBERG_CREDIT = re.compile(r"^(?:Produced by|E-?text prepared by|Transcribed (?:from|by)) ", re.IGNORECASE)
_GUTENBERG_TITLE = re.compile(r"^Title:\s*(.+?)(?:\s+Author:.*)?$")
# How far into a file the START marker may appear (paragraphs); beyond this the text is not Gutenberg's.
_GUTENBERG_HEADER_PARAGRAPHS = 400


def normalize_line(line: str) -> str:
    """One line: invisible characters dropped, runs of spaces collapsed, stripped, NFC."""
    line = _INVISIBLE.sub("", line)
    line = _SPACES.sub(" ", line).strip()
    return unicodedata.normalize("NFC", line)


def normalize_text(text: str) -> str:
    """A block of text as one paragraph: all whitespace (newlines too) collapsed to single spaces."""
    return " ".join(normalize_line(line) for line in text.splitlines() if line.strip()).strip()


def iter_paragraphs(lines: Iterable[str]) -> Iterator[str]:
    """Group lines into paragraphs at blank lines; re-flow each paragraph onto one line.

    Paragraphs longer than MAX_PARAGRAPH_CHARS are cut at a line boundary, so memory stays
    bounded for files without blank lines.
    """
    parts: list[str] = []
    size = 0
    for raw in lines:
        line = normalize_line(raw)
        if not line:
            if parts:
                yield " ".join(parts)
                parts, size = [], 0
            continue
        parts.append(line)
        size += len(line) + 1
        if size >= MAX_PARAGRAPH_CHARS:
            yield " ".join(parts)
            parts, size = [], 0
    if parts:
        yield " ".join(parts)


def strip_gutenberg(paragraphs: Iterable[str], meta: dict[str, str] | None = None) -> Iterator[str]:
    """Drop a Project Gutenberg header and licence footer; other texts pass through unchanged.

    The first paragraphs are buffered (at most _GUTENBERG_HEADER_PARAGRAPHS) to look for the
    START marker; everything from the END marker on is dropped. The header's "Title:" line, if
    any, is stored in `meta["title"]`.
    """
    it = iter(paragraphs)
    head: list[str] = []
    started = False
    for paragraph in it:
        head.append(paragraph)
        title = _GUTENBERG_TITLE.match(paragraph)
        if title and meta is not None and "title" not in meta:
            meta["title"] = title.group(1).strip()
        if _GUTENBERG_START.search(paragraph):
            head, started = [], True
            break
        if len(head) >= _GUTENBERG_HEADER_PARAGRAPHS:
            break
    body = head if not started else []
    skipping_credits = started
    for paragraph in _chain(body, it):
        if _GUTENBERG_END.search(paragraph):
            return
        if skipping_credits:
            if _GUTENBERG_CREDIT.search(paragraph):
                continue
            skipping_credits = False
        yield paragraph


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


# ---------------------------------------------------------------------------------------------
# PDF lines: de-hyphenation and re-flow

_HYPHEN_END = re.compile(r"(\w+)[-\u2010\u00ad]$")
_WORD_START = re.compile(r"^(\w+)")
_HYPHENATED = re.compile(r"\b(\w+)-(\w+)\b")
_TERMINAL = re.compile(r"""[.!?:;"'’”)\]»]$""")


def hyphenated_words(text: str) -> set[str]:
    """Lower-cased words written with a hyphen somewhere in `text` (e.g. "well-known")."""
    return {f"{a}-{b}".lower() for a, b in _HYPHENATED.findall(text)}


def join_hyphenated(previous: str, following: str, keep: set[str]) -> tuple[str, str] | None:
    """If `previous` ends with a word broken by a hyphen that `following` completes, join them.

    Returns the two new lines, or None when the lines should not be joined. The hyphen is kept
    when the document writes the compound with a hyphen elsewhere ("well-known"), dropped
    otherwise ("hyphen-" + "ated" -> "hyphenated"). Only a lower-case continuation is joined,
    so "New-" + "York" style breaks stay as they are.
    """
    end = _HYPHEN_END.search(previous)
    start = _WORD_START.match(following)
    if not end or not start or not start.group(1)[0].islower():
        return None
    head, tail = end.group(1), start.group(1)
    joiner = "-" if f"{head}-{tail}".lower() in keep else ""
    return previous[: end.start()] + head + joiner + tail, following[start.end() :].lstrip()


def reflow_lines(lines: list[str], headings: Iterable[int] = ()) -> list[str]:
    """Hard-wrapped lines (already normalized, page furniture removed) -> paragraphs.

    A paragraph ends at a blank line, at a line clearly shorter than the typical line, or at a
    line that ends a sentence and is somewhat short; lines whose index is in `headings` stand
    alone. Words hyphenated across line breaks are joined first.
    """
    lines = list(lines)
    keep = hyphenated_words("\n".join(lines))
    for i in range(len(lines) - 1):
        joined = join_hyphenated(lines[i], lines[i + 1], keep) if lines[i] and lines[i + 1] else None
        if joined:
            lines[i], lines[i + 1] = joined
    lengths = [len(line) for line in lines if len(line) > 20]
    typical = statistics.median(lengths) if lengths else 60.0
    heading_set = set(headings)
    paragraphs: list[str] = []
    parts: list[str] = []
    for i, line in enumerate(lines):
        if i in heading_set:
            if parts:
                paragraphs.append(" ".join(parts))
                parts = []
            if line:
                paragraphs.append(line)
            continue
        if not line:
            if parts:
                paragraphs.append(" ".join(parts))
                parts = []
            continue
        parts.append(line)
        short = len(line) < 0.6 * typical
        ends_sentence = bool(_TERMINAL.search(line)) and len(line) < 0.85 * typical
        if short or ends_sentence:
            paragraphs.append(" ".join(parts))
            parts = []
    if parts:
        paragraphs.append(" ".join(parts))
    return [p for p in (p.strip() for p in paragraphs) if p]
