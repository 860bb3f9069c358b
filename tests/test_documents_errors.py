"""Bad input: every case raises our own DocumentError with a message that says what to do."""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import pytest
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from infinisum.documents import SUPPORTED_EXTENSIONS, iter_document_text, read_document
from infinisum.documents import epub as epub_module
from infinisum.documents.epub import read_epub
from infinisum.documents.pdf import EncryptedPDFError, read_pdf
from infinisum.errors import DocumentError

SAMPLES = Path(__file__).resolve().parent.parent / "sample_docs"
PDF_SAMPLE = SAMPLES / "northanger-abbey-1-4.pdf"


def _encrypted(tmp_path: Path, user_password: str) -> Path:
    writer = PdfWriter(clone_from=PdfReader(PDF_SAMPLE))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    return path


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist; check the path"):
        read_document(tmp_path / "nope.txt")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="is a directory; pass a document file"):
        read_document(tmp_path)


def test_unsupported_extension_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "book.docx"
    path.write_bytes(b"whatever")
    with pytest.raises(DocumentError) as info:
        read_document(path)
    message = str(info.value)
    assert "unsupported file type '.docx'" in message
    assert all(ext in message for ext in SUPPORTED_EXTENSIONS)


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  \n"])
def test_empty_or_whitespace_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(DocumentError, match="empty .or only whitespace.; pass a document with some text"):
        read_document(path)


def test_only_gutenberg_boilerplate(tmp_path: Path) -> None:
    path = tmp_path / "boiler.txt"
    path.write_text(
        "Header\n\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\n\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\n"
    )
    with pytest.raises(DocumentError, match="contains no text"):
        read_document(path)


def test_binary_file_named_txt(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(DocumentError, match="binary file, not text"):
        read_document(path)


def test_encrypted_pdf_needs_password(tmp_path: Path) -> None:
    path = _encrypted(tmp_path, "secret")
    with pytest.raises(EncryptedPDFError, match="--password"):
        read_document(path)
    with pytest.raises(EncryptedPDFError, match="does not open it"):
        read_document(path, password="wrong")
    assert read_document(path, password="secret").chapters[0].title == "Chapter 1"


def test_encrypted_pdf_with_empty_user_password_opens(tmp_path: Path) -> None:
    assert read_document(_encrypted(tmp_path, "")).chapters[0].title == "Chapter 1"


def test_scanned_pdf_suggests_ocr(tmp_path: Path) -> None:
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.rect(20, 20, 100, 150, style="F")  # a "scanned" page: ink, no text
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(DocumentError, match="no extractable text.*OCR"):
        read_document(path)


def test_truncated_pdf(tmp_path: Path) -> None:
    data = PDF_SAMPLE.read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DocumentError, match="truncated"):
        read_document(path)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + b"garbage " * 200 + b"\n%%EOF\n",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    ],
)
def test_corrupt_pdf(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)
    with pytest.raises(DocumentError, match="PDF"):
        read_document(path)


def test_pdf_extension_without_pdf_content(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_text("just some text")
    with pytest.raises(DocumentError, match="not a PDF"):
        read_document(path)


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


CONTAINER = b'<container><rootfiles><rootfile full-path="c.opf"/></rootfiles></container>'
OPF = (
    b'<package><manifest><item id="a" href="a.xhtml" media-type="application/xhtml+xml"/></manifest>'
    b'<spine><itemref idref="a"/></spine></package>'
)


@pytest.mark.parametrize(
    "entries,match",
    [
        ({"mimetype": b"application/epub+zip"}, "missing entry 'META-INF/container.xml'"),
        ({"META-INF/container.xml": b"<container><unclosed"}, "not well-formed XML"),
        ({"META-INF/container.xml": CONTAINER, "c.opf": b"<package><spine/></package>"}, "spine lists no readable"),
        ({"META-INF/container.xml": CONTAINER, "c.opf": OPF}, "spine lists no readable"),  # a.xhtml missing
    ],
)
def test_corrupt_epub(tmp_path: Path, entries: dict[str, bytes], match: str) -> None:
    with pytest.raises(DocumentError, match=match):
        read_document(_zip(tmp_path / "bad.epub", entries))


def test_epub_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "bad.epub"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DocumentError, match="not a valid zip archive"):
        read_document(path)


def test_epub_zip_bomb_entry_is_refused_before_decompression(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epub_module, "MAX_ENTRY_BYTES", 1 << 20)  # 1 MiB: same code path, faster test
    entries = {"META-INF/container.xml": CONTAINER, "c.opf": OPF, "a.xhtml": b"\0" * (4 << 20)}
    path = _zip(tmp_path / "bomb.epub", entries)
    assert path.stat().st_size < 20_000  # 4 MiB of zeros compress to a few KiB
    with pytest.raises(DocumentError, match="zip bomb"):
        read_document(path)


def test_epub_zip_bomb_total_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epub_module, "MAX_TOTAL_BYTES", 2 << 20)
    entries = {"META-INF/container.xml": CONTAINER, "c.opf": OPF, **{f"x{i}.bin": b"\0" * (1 << 20) for i in range(3)}}
    with pytest.raises(DocumentError, match="would decompress to 3 MiB"):
        read_document(_zip(tmp_path / "bomb.epub", entries))


def test_zip_with_another_extension(tmp_path: Path) -> None:
    path = _zip(tmp_path / "archive.txt", {"a.txt": b"hello"})
    with pytest.raises(DocumentError, match="zip archive"):
        read_document(path)


def test_leading_whitespace_longer_than_the_sniffed_head_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "late.txt"
    path.write_bytes(b" \n" * 2000 + b"Text at last.")
    assert read_document(path).text == "Text at last."


def test_stream_raises_for_empty_text_lazily(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    # Whitespace, then only invisible characters: found empty while streaming, after the sniffed head.
    path.write_bytes(b"\n\n \n" * 600 + "\u200b\ufeff\x07".encode())
    with pytest.raises(DocumentError, match="contains no text"):
        list(iter_document_text(path))


# ------------------------------------------------------------------------------ random bytes


@pytest.mark.parametrize("ext", sorted(set(SUPPORTED_EXTENSIONS)))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048))
def test_random_bytes_only_raise_document_error(tmp_path: Path, ext: str, data: bytes) -> None:
    path = tmp_path / f"random{ext}"
    path.write_bytes(data)
    with contextlib.suppress(DocumentError):
        read_document(path)


PREFIXES = [b"%PDF-1.4\n", b"PK\x03\x04", b"<html><body>", b"\xef\xbb\xbf", b"\xff\xfe"]


@settings(max_examples=60, deadline=None)
@given(prefix=st.sampled_from(PREFIXES), data=st.binary(max_size=2048), tail=st.sampled_from([b"", b"\n%%EOF\n"]))
def test_random_bytes_behind_magic_only_raise_document_error(prefix: bytes, data: bytes, tail: bytes) -> None:
    blob = prefix + data + tail
    for reader in (lambda: read_pdf(io.BytesIO(blob), "x.pdf"), lambda: read_epub(io.BytesIO(blob), "x.epub")):
        with contextlib.suppress(DocumentError):
            reader()


@settings(max_examples=30, deadline=None)
@given(cut=st.integers(min_value=1, max_value=99), flips=st.lists(st.integers(min_value=0), max_size=8))
def test_damaged_epub_and_pdf_only_raise_document_error(cut: int, flips: list[int]) -> None:
    for sample, reader in ((SAMPLES / "persuasion.epub", read_epub), (PDF_SAMPLE, read_pdf)):
        blob = bytearray(sample.read_bytes())
        for flip in flips:
            blob[flip % len(blob)] ^= 0xFF
        blob = blob[: len(blob) * cut // 100] if cut < 99 else blob
        with contextlib.suppress(DocumentError):
            reader(io.BytesIO(bytes(blob)), sample.name)
