"""Documents in: one entry point that reads a book in any supported format as cleaned chapters.

    doc = read_document("moby-dick.txt")        # or .md .pdf .epub .html, or "-" for stdin
    doc.title, [c.title for c in doc.chapters], doc.text

The reader is chosen from the file's content (PDF and EPUB/zip magic bytes, HTML markup)
and its extension. Plain text streams: `iter_document_text` yields cleaned paragraphs (and,
on request, `ChapterStart` markers) lazily, so a 1 GB text file never sits in memory; the
other formats are bounded by nature and are read whole.

Every failure is a `DocumentError` whose message says what to do.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from infinisum.documents.chapters import Chapter, ChapterStart, collect_chapters, iter_chapter_stream
from infinisum.documents.cleaning import iter_paragraphs, normalize_line, strip_gutenberg
from infinisum.errors import DocumentError

__all__ = [
    "Chapter",
    "ChapterStart",
    "Document",
    "SUPPORTED_EXTENSIONS",
    "iter_document_text",
    "read_document",
]

#: Extension -> reader.
SUPPORTED_EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
    ".epub": "epub",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}
_MAGIC_BYTES = 1024


@dataclass
class Document:
    """A book as the model reads it: cleaned chapters in order."""

    source: str
    title: str
    chapters: list[Chapter] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All chapter texts, separated by blank lines (chapter titles are not part of the text)."""
        return "\n\n".join(chapter.text for chapter in self.chapters)


# ---------------------------------------------------------------------------------------------
# Opening a source and choosing its reader


class _Peeked(io.RawIOBase):
    """A non-seekable stream (stdin) with its first bytes already read."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            if len(data) < size:
                data += self._rest.read(size - len(data))
            return data
        return self._rest.read(size)


def _open(path: str | Path) -> tuple[BinaryIO, str, str]:
    """(binary stream, display name, extension) of a path or "-" (stdin)."""
    if str(path) == "-":
        return sys.stdin.buffer, "<stdin>", ""
    p = Path(path)
    if not p.exists():
        raise DocumentError(f"{p} does not exist; check the path")
    if p.is_dir():
        raise DocumentError(f"{p} is a directory; pass a document file (e.g. {p}/book.pdf)")
    ext = p.suffix.lower()
    if ext and ext not in SUPPORTED_EXTENSIONS:
        raise DocumentError(
            f"{p}: unsupported file type {ext!r}; supported: {', '.join(SUPPORTED_EXTENSIONS)} "
            f"(plain text under another name: rename it to .txt or pipe it to `-`)"
        )
    try:
        return open(p, "rb"), str(p), ext
    except PermissionError:
        raise DocumentError(f"{p} is not readable (permission denied); check its permissions") from None
    except OSError as exc:
        raise DocumentError(f"{p} cannot be opened ({exc.strerror}); check the path") from None


def _kind(head: bytes, ext: str, source: str) -> str:
    """The reader for a file starting with `head`: content first, then extension."""
    at = head.find(b"%PDF-")
    if at == 0 or (at > 0 and ext in ("", ".pdf")):  # a text that merely mentions %PDF- stays text
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        if ext in ("", ".epub") or b"application/epub+zip" in head:
            return "epub"
        raise DocumentError(f"{source} is a zip archive, not a {ext} file; unpack it or pass an .epub")
    if not head.strip() and len(head) < _MAGIC_BYTES:  # the whole file is whitespace
        raise DocumentError(f"{source} is empty (or only whitespace); pass a document with some text in it")
    kind = SUPPORTED_EXTENSIONS.get(ext, "")
    if kind == "pdf":
        raise DocumentError(
            f"{source} is not a PDF (no %PDF- header; damaged or truncated?); re-download or re-export it"
        )
    if kind == "epub":
        raise DocumentError(
            f"{source} is not a readable EPUB (not a zip archive; damaged or truncated?); re-download or re-export it"
        )
    if kind:
        return kind
    from infinisum.documents.html import looks_like_html

    return "html" if looks_like_html(head.decode("utf-8", "replace")) else "text"


def _open_and_sniff(path: str | Path) -> tuple[BinaryIO, str, str, str]:
    stream, source, ext = _open(path)
    try:
        head = stream.read(_MAGIC_BYTES)
    except OSError as exc:
        stream.close()
        raise DocumentError(f"{source} cannot be read ({exc}); check the file") from None
    if stream is sys.stdin.buffer:
        stream = _Peeked(head, stream)  # type: ignore[assignment]
    else:
        stream.seek(0)
    try:
        kind = _kind(head, ext, source)
    except DocumentError:
        stream.close()
        raise
    return stream, source, ext, kind


# ---------------------------------------------------------------------------------------------
# Text: the streaming path


def _text_stream(stream: BinaryIO, source: str, markdown: bool, meta: dict[str, str]) -> Iterator[str | ChapterStart]:
    from infinisum.documents.text import iter_lines

    paragraphs = strip_gutenberg(iter_paragraphs(iter_lines(stream, source)), meta)
    empty = True
    for item in iter_chapter_stream(paragraphs, markdown=markdown):
        empty = False
        yield item
    if empty:
        raise DocumentError(
            f"{source} contains no text (only whitespace or Project Gutenberg boilerplate); "
            f"pass a document with some text in it"
        )


def iter_document_text(
    path: str | Path, password: str | None = None, chapters: bool = False
) -> Iterator[str | ChapterStart]:
    """Cleaned paragraphs of a document, lazily; with chapters=True, ChapterStart markers too.

    Plain text (and stdin) streams with bounded memory; PDF, EPUB and HTML are read whole
    first (they are bounded by nature) and then yielded paragraph by paragraph.
    """
    stream, source, ext, kind = _open_and_sniff(path)
    try:
        if kind in ("text", "markdown"):
            for item in _text_stream(stream, source, kind == "markdown", {}):
                if chapters or not isinstance(item, ChapterStart):
                    yield item
            return
        document = _read_bounded(stream, source, kind, password)
    finally:
        stream.close()
    for chapter in document.chapters:
        if chapters:
            yield ChapterStart(chapter.title)
        yield from chapter.text.split("\n\n")


# ---------------------------------------------------------------------------------------------
# Whole documents


def read_document(path: str | Path, password: str | None = None) -> Document:
    """Read a document (.txt .md .pdf .epub .html, or "-" for stdin) as cleaned chapters."""
    stream, source, ext, kind = _open_and_sniff(path)
    try:
        if kind in ("text", "markdown"):
            meta: dict[str, str] = {}
            chapters = collect_chapters(_text_stream(stream, source, kind == "markdown", meta))
            title = meta.get("title") or (Path(source).stem if source != "<stdin>" else "")
            document = Document(source, title, chapters)
        else:
            document = _read_bounded(stream, source, kind, password)
    finally:
        stream.close()
    if len(document.chapters) == 1 and document.chapters[0].title in ("", "Front matter"):
        document.chapters[0].title = document.title
    return document


def _read_bounded(stream: BinaryIO, source: str, kind: str, password: str | None) -> Document:
    """PDF, EPUB, HTML: read whole (from a seekable copy when the input is stdin)."""
    if not stream.seekable():
        stream = io.BytesIO(stream.read())
    if kind == "pdf":
        from infinisum.documents.pdf import read_pdf

        title, chapters = read_pdf(stream, source, password)
    elif kind == "epub":
        from infinisum.documents.epub import read_epub

        title, chapters = read_epub(stream, source)
    else:
        title, chapters = _read_html(stream, source)
    title = normalize_line(title) or (Path(source).stem if source != "<stdin>" else "")
    if not chapters:
        raise DocumentError(f"{source} contains no text; pass a document with some text in it")
    return Document(source, title, chapters)


def _read_html(stream: BinaryIO, source: str) -> tuple[str, list[Chapter]]:
    from infinisum.documents.html import chapters_from_blocks, html_blocks
    from infinisum.documents.text import iter_lines

    markup = "\n".join(iter_lines(stream, source))
    title, blocks = html_blocks(markup)
    return title, chapters_from_blocks(blocks)
