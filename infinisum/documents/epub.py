"""EPUB: the OPF spine in order, XHTML to text, chapters from the table of contents.

Read with `zipfile` directly (not a whole-book loader) so every entry is size-checked before it
is decompressed: an entry declaring more than MAX_ENTRY_BYTES, or a book totalling more than
MAX_TOTAL_BYTES, is refused, and reads are capped at the declared size, so a zip bomb costs
nothing. Chapters: the EPUB 3 nav document or the EPUB 2 NCX gives (file, fragment) -> title;
a chapter starts where its entry points (a whole file, or an element id inside one). Without a
usable table of contents, each spine file with a heading starts a chapter.
"""

from __future__ import annotations

import posixpath
import zipfile
from typing import BinaryIO
from urllib.parse import unquote
from xml.etree import ElementTree

from infinisum.documents.chapters import Chapter
from infinisum.documents.html import Block, chapters_from_blocks, html_blocks
from infinisum.errors import DocumentError

MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_ENTRIES = 20_000


def _corrupt(source: str, why: str) -> DocumentError:
    return DocumentError(
        f"{source} is not a readable EPUB ({why}); re-download or re-export it "
        f"(e.g. with Calibre), or convert it to .txt"
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Book:
    """Bounded access to the files of an EPUB zip."""

    def __init__(self, stream: BinaryIO, source: str) -> None:
        self.source = source
        try:
            self.zip = zipfile.ZipFile(stream)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise _corrupt(source, f"not a valid zip archive: {exc}") from None
        if len(infos) > MAX_ENTRIES:
            raise _corrupt(source, f"{len(infos)} entries, more than the {MAX_ENTRIES} allowed")
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL_BYTES:
            raise DocumentError(
                f"{source} would decompress to {total / 2**20:.0f} MiB, more than the "
                f"{MAX_TOTAL_BYTES // 2**20} MiB allowed for an EPUB; this is not a normal "
                f"book (a zip bomb?) — convert it to text with another tool if you trust it"
            )
        self.infos = {i.filename: i for i in infos}

    def read(self, name: str) -> bytes:
        info = self.infos.get(name)
        if info is None:
            raise _corrupt(self.source, f"missing entry {name!r}")
        if info.file_size > MAX_ENTRY_BYTES:
            raise DocumentError(
                f"{self.source}: entry {name!r} would decompress to "
                f"{info.file_size / 2**20:.0f} MiB, more than the {MAX_ENTRY_BYTES // 2**20} "
                f"MiB allowed; this is not a normal book (a zip bomb?)"
            )
        try:
            with self.zip.open(info) as f:
                data = f.read(MAX_ENTRY_BYTES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise _corrupt(self.source, f"entry {name!r} cannot be decompressed: {exc}") from None
        except Exception as exc:  # zlib/bz2/lzma errors on damaged data have module-specific types
            raise _corrupt(self.source, f"entry {name!r} cannot be decompressed: {exc}") from None
        if len(data) > MAX_ENTRY_BYTES:
            raise DocumentError(f"{self.source}: entry {name!r} is larger than declared; refusing it (a zip bomb?)")
        return data

    def xml(self, name: str) -> ElementTree.Element:
        try:
            return ElementTree.fromstring(self.read(name))
        except ElementTree.ParseError as exc:
            raise _corrupt(self.source, f"{name!r} is not well-formed XML: {exc}") from None

    def text(self, name: str) -> str:
        data = self.read(name)
        for encoding in ("utf-8-sig", "utf-16"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
        return data.decode("cp1252", errors="replace")


def _is_markup(path: str, media_type: str) -> bool:
    """True for (X)HTML content documents."""
    return (
        "html" in media_type
        or media_type in ("application/xml", "text/xml")
        or (not media_type and path.lower().endswith((".xhtml", ".html", ".htm", ".xml")))
    )


def _resolve(base: str, href: str) -> tuple[str, str]:
    """(zip path, fragment) of an href relative to the file `base`."""
    href = unquote(href or "")
    path, _, fragment = href.partition("#")
    if not path:
        return base, fragment
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), path)), fragment


def read_epub(stream: BinaryIO, source: str) -> tuple[str, list[Chapter]]:
    """(title, chapters) of an EPUB."""
    book = _Book(stream, source)
    container = book.xml("META-INF/container.xml")
    rootfile = next((el.get("full-path") for el in container.iter() if _local(el.tag) == "rootfile"), None)
    if not rootfile:
        raise _corrupt(source, "META-INF/container.xml names no package (OPF) file")
    opf = book.xml(rootfile)

    title = ""
    manifest: dict[str, tuple[str, str, str]] = {}  # id -> (path, media type, properties)
    spine: list[str] = []
    ncx_id = ""
    for el in opf.iter():
        tag = _local(el.tag)
        if tag == "title" and not title and el.text:
            title = " ".join(el.text.split())
        elif tag == "item" and el.get("id") and el.get("href"):
            path, _ = _resolve(rootfile, el.get("href", ""))
            manifest[el.get("id", "")] = (path, el.get("media-type", ""), el.get("properties", ""))
        elif tag == "spine":
            ncx_id = el.get("toc", "")
        elif tag == "itemref" and el.get("idref") and el.get("linear", "yes") != "no":
            spine.append(el.get("idref", ""))
    # The EPUB 3 navigation document is a table of contents, not prose, even when it is in the spine.
    # Images or other non-text items in the spine are skipped too.
    files = [
        manifest[i][0]
        for i in spine
        if i in manifest
        and manifest[i][0] in book.infos
        and "nav" not in manifest[i][2].split()
        and _is_markup(*manifest[i][:2])
    ]
    if not files:
        raise _corrupt(source, "its spine lists no readable content files")

    toc = _nav_toc(book, manifest) or _ncx_toc(book, manifest, ncx_id)
    return title, _chapters(book, files, toc)


def _nav_toc(book: _Book, manifest: dict[str, tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """EPUB 3 nav document: [(path, fragment, title)]."""
    nav = next((path for path, _, props in manifest.values() if "nav" in props.split()), None)
    if not nav or nav not in book.infos:
        return []
    try:
        root = book.xml(nav)
    except DocumentError:
        return []
    for el in root.iter():
        if _local(el.tag) == "nav" and "toc" in (el.get("{http://www.idpf.org/2007/ops}type", "") + el.get("id", "")):
            entries = []
            for a in el.iter():
                if _local(a.tag) == "a" and a.get("href"):
                    text = " ".join("".join(a.itertext()).split())
                    path, fragment = _resolve(nav, a.get("href", ""))
                    if text:
                        entries.append((path, fragment, text))
            return entries
    return []


def _ncx_toc(book: _Book, manifest: dict[str, tuple[str, str, str]], ncx_id: str) -> list[tuple[str, str, str]]:
    """EPUB 2 NCX: [(path, fragment, title)] in play order."""
    ncx = manifest.get(ncx_id, ("", "", ""))[0] or next(
        (path for path, media, _ in manifest.values() if media == "application/x-dtbncx+xml"), ""
    )
    if not ncx or ncx not in book.infos:
        return []
    try:
        root = book.xml(ncx)
    except DocumentError:
        return []
    entries = []
    for point in root.iter():
        if _local(point.tag) != "navPoint":
            continue
        label = next((el for el in point if _local(el.tag) == "navLabel"), None)
        content = next((el for el in point if _local(el.tag) == "content"), None)
        if label is None or content is None:
            continue
        text = " ".join("".join(label.itertext()).split())
        path, fragment = _resolve(ncx, content.get("src", ""))
        if text:
            entries.append((path, fragment, text))
    return entries


def _chapters(book: _Book, files: list[str], toc: list[tuple[str, str, str]]) -> list[Chapter]:
    """Walk the spine; start a chapter where a TOC entry points."""
    starts: dict[tuple[str, str], str] = {}
    for path, fragment, text in toc:
        starts.setdefault((path, fragment), text)
    if not any(path in files for path, _ in starts):
        # No usable table of contents: headings inside the spine decide.
        blocks: list[Block] = []
        for name in files:
            blocks.extend(html_blocks(book.text(name))[1])
        return chapters_from_blocks(blocks)

    chapters: list[Chapter] = []
    current, parts = "Front matter", []

    def close() -> None:
        if parts:
            chapters.append(Chapter(current, "\n\n".join(parts)))

    for name in files:
        _, blocks = html_blocks(book.text(name))
        if (name, "") in starts:
            close()
            current, parts = starts[(name, "")], []
        for block in blocks:
            if block.kind == "anchor":
                if (name, block.text) in starts:
                    close()
                    current, parts = starts[(name, block.text)], []
                continue
            if block.kind == "heading" and not parts and _same(block.text, current):
                continue  # the chapter's own heading: already its title
            parts.append(block.text)
    close()
    return chapters


def _same(a: str, b: str) -> bool:
    def key(s: str) -> str:
        return "".join(ch for ch in s.casefold() if ch.isalnum())

    return key(a) == key(b)
