"""PDF: text per page with pypdf, page furniture removed, lines re-flowed, chapters from bookmarks.

Steps:
1. Open (non-strict) and decrypt: an empty password is tried first, then the user's.
2. Extract each page's text (layout order as pypdf gives it).
3. Running headers/footers: among the first and last `_EDGE_LINES` lines of every page, a line
   whose digit-blind form ("Page # of #", "# MOBY DICK") repeats on many pages is removed, and so
   is a bare page number ("12", "- 12 -", "xii", "Page 12").
4. Lines re-flowed into paragraphs, words hyphenated across line breaks joined.
5. Chapters start at the outline (bookmark) entries; without an outline, at chapter-like
   headings in the text.

pypdf raises many exception types on damaged files (its own errors, but also ValueError,
KeyError, TypeError, ...); each library call on the file is therefore wrapped so that any
failure becomes a DocumentError that says the file is damaged.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import BinaryIO

from infinisum.documents.chapters import Chapter, heading_title, split_paragraphs_into_chapters
from infinisum.documents.cleaning import normalize_line, reflow_lines
from infinisum.errors import DocumentError

_EDGE_LINES = 3
#: Where to look for the %%EOF marker (some writers append a little junk after it).
_TAIL_BYTES = 4096
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—(\[]?\s*(?:page|p\.)?\s*(?:\d{1,5}|[ivxlcdm]{1,8})\s*(?:(?:of|/)\s*\d{1,5})?\s*[-–—)\]]?)$",
    re.IGNORECASE,
)


class EncryptedPDFError(DocumentError):
    """The PDF is encrypted and the password (empty or given) does not open it."""


def _damaged(source: str, exc: BaseException) -> DocumentError:
    detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return DocumentError(
        f"{source} is not a readable PDF (damaged or truncated: {detail}); "
        f"re-download or re-export it, or use `infinisum extract` on a text version"
    )


def open_pdf(stream: BinaryIO, source: str, password: str | None = None):
    """A decrypted pypdf.PdfReader, or a DocumentError saying what to do."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    _check_complete(stream, source)
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted:
            opened = reader.decrypt("")
            if not opened and password:
                opened = reader.decrypt(password)
            if not opened:
                if password:
                    raise EncryptedPDFError(
                        f"{source} is encrypted and the password given does not open it; "
                        f"check the password (--password)"
                    )
                raise EncryptedPDFError(f"{source} is encrypted; pass its password with --password PASSWORD")
        n_pages = len(reader.pages)
    except DocumentError:
        raise
    except DependencyError as exc:
        raise DocumentError(
            f"{source} uses AES encryption, which needs the 'cryptography' package: pip install cryptography ({exc})"
        ) from None
    except FileNotDecryptedError:
        raise EncryptedPDFError(f"{source} is encrypted; pass its password with --password PASSWORD") from None
    except Exception as exc:  # pypdf's failure modes on damaged files are not one exception type
        raise _damaged(source, exc) from None
    if n_pages == 0:
        raise DocumentError(f"{source} has no pages; re-export the PDF")
    return reader


def _check_complete(stream: BinaryIO, source: str) -> None:
    """A complete PDF ends with %%EOF; without it the file was cut off (pypdf would guess silently)."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(max(0, size - _TAIL_BYTES))
    tail = stream.read()
    stream.seek(0)
    if b"%%EOF" not in tail:
        raise DocumentError(
            f"{source} is truncated (no %%EOF end marker; an interrupted download?); download or export it again"
        )


def page_texts(reader, source: str) -> list[str]:
    """The raw text of every page."""
    texts = []
    for index in range(len(reader.pages)):
        try:
            texts.append(reader.pages[index].extract_text() or "")
        except Exception as exc:  # see module docstring
            raise _damaged(source, exc) from None
    return texts


def outline_entries(reader) -> list[tuple[str, int]]:
    """(title, page index) of the top outline level (one level down if the top has one entry)."""
    try:
        outline = reader.outline
    except Exception:  # a broken outline only costs us the chapter titles
        return []

    def entries(items) -> list[tuple[str, int]]:
        found = []
        for item in items:
            if isinstance(item, list):
                continue
            try:
                page = reader.get_destination_page_number(item)
                title = normalize_line(str(item.title))
            except Exception:
                continue
            if page is not None and page >= 0 and title:
                found.append((title, page))
        return found

    top = entries(outline)
    if len(top) <= 1:
        nested = [x for x in outline if isinstance(x, list)]
        if nested:
            deeper = entries(nested[0])
            if len(deeper) > len(top):
                return deeper
    return sorted(top, key=lambda e: e[1])


def _shape(line: str) -> str:
    """A line with digits blanked and case folded: running headers match whatever the page number."""
    return re.sub(r"\d+", "#", line).casefold()


def strip_page_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Remove running headers, footers and page numbers from lists of (normalized) page lines.

    A line at a page's edge is furniture when it is a bare page number, or when its digit-blind
    shape repeats at the edges of at least 20% of the pages (and 2). Chapter headings are
    compared exactly instead ("Chapter 1" and "Chapter 2" are not one header), and a heading
    that does run as a header keeps its first occurrence, where its chapter starts.
    """
    shapes: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    for lines in pages:
        edge = set(lines[:_EDGE_LINES]) | set(lines[-_EDGE_LINES:])
        shapes.update({_shape(line) for line in edge})
        exact.update(edge)
    threshold = max(2, math.ceil(0.2 * len(pages)))
    seen_headings: set[str] = set()

    def furniture(line: str) -> bool:
        if _PAGE_NUMBER.match(line):
            return True
        if heading_title(line) is not None:
            repeated = exact[line] >= threshold and line in seen_headings
            seen_headings.add(line)
            return repeated
        return shapes[_shape(line)] >= threshold

    cleaned = []
    for lines in pages:
        start, end = 0, len(lines)
        while start < min(end, _EDGE_LINES) and furniture(lines[start]):
            start += 1
        while end > max(start, len(lines) - _EDGE_LINES) and furniture(lines[end - 1]):
            end -= 1
        cleaned.append(lines[start:end])
    return cleaned


def _find_heading(lines: list[str], title: str) -> int | None:
    """Index of the line that begins the heading `title`, if it is on this page."""
    key = re.sub(r"\W+", "", title.casefold())[:24]
    for i, line in enumerate(lines[:8]):
        if key and re.sub(r"\W+", "", line.casefold()).startswith(key[: max(4, len(key))]):
            return i
    return None


def read_pdf(stream: BinaryIO, source: str, password: str | None = None) -> tuple[str, list[Chapter]]:
    """(title, chapters) of a PDF."""
    reader = open_pdf(stream, source, password)
    texts = page_texts(reader, source)
    if not any(t.strip() for t in texts):
        raise DocumentError(
            f"{source} has no extractable text (a scanned PDF?); run OCR first, "
            f"e.g. `ocrmypdf {source} out.pdf`, then read out.pdf"
        )
    pages = [[normalize_line(line) for line in text.splitlines()] for text in texts]
    pages = [[line for line in lines if line] for lines in pages]
    pages = strip_page_furniture(pages)
    title = _metadata_title(reader)

    entries = outline_entries(reader)
    if len(entries) >= 2:
        return title, _chapters_from_outline(pages, entries)
    lines, headings = [], []
    for page in pages:
        for line in page:
            if heading_title(line) is not None:
                headings.append(len(lines))
            lines.append(line)
    paragraphs = reflow_lines(lines, headings)
    return title, split_paragraphs_into_chapters(paragraphs)


def _chapters_from_outline(pages: list[list[str]], entries: list[tuple[str, int]]) -> list[Chapter]:
    # Flatten pages into one line list, remembering where each chapter starts.
    flat: list[str] = []
    page_start: list[int] = []
    for lines in pages:
        page_start.append(len(flat))
        flat.extend(lines)
    starts: list[tuple[int, str, bool]] = []  # (line index, title, heading line found)
    for chapter_title, page in entries:
        if page >= len(pages):
            continue
        offset = _find_heading(pages[page], chapter_title)
        index = page_start[page] + (offset or 0)
        if starts and index < starts[-1][0]:
            index = starts[-1][0]
        starts.append((index, chapter_title, offset is not None))
    chapters: list[Chapter] = []
    if starts and starts[0][0] > 0:
        front = reflow_lines(flat[: starts[0][0]])
        if front:
            chapters.append(Chapter("Front matter", "\n\n".join(front)))
    for n, (index, chapter_title, found) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(flat)
        body = flat[index + 1 if found else index : end]
        paragraphs = reflow_lines(body)
        if paragraphs:
            chapters.append(Chapter(chapter_title, "\n\n".join(paragraphs)))
    return chapters


def _metadata_title(reader) -> str:
    try:
        meta = reader.metadata
        return normalize_line(str(meta.title)) if meta and meta.title else ""
    except Exception:
        return ""
