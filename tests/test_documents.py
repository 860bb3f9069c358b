"""Document readers on real samples and on files built here: cleaning, chapters, encodings, formats."""

from __future__ import annotations

import codecs
import io
import unicodedata
import zipfile
from pathlib import Path

import pytest
from fpdf import FPDF

from infinisum.documents import Document, iter_document_text, read_document
from infinisum.documents.chapters import ChapterStart, heading_title
from infinisum.documents.cleaning import iter_paragraphs, reflow_lines, strip_gutenberg
from infinisum.documents.pdf import strip_page_furniture

SAMPLES = Path(__file__).resolve().parent.parent / "sample_docs"


@pytest.fixture(scope="module")
def moby() -> Document:
    return read_document(SAMPLES / "moby-dick.txt")


# ------------------------------------------------------------------------------ the samples


def test_novel_has_no_gutenberg_boilerplate(moby: Document) -> None:
    raw = (SAMPLES / "moby-dick.txt").read_text(encoding="utf-8-sig")
    assert "*** START OF THIS PROJECT GUTENBERG" in raw and "Gutenberg-tm" in raw  # the sample has both
    text = moby.text
    assert "START OF THIS PROJECT GUTENBERG" not in text
    assert "END OF THIS PROJECT GUTENBERG" not in text
    assert "Gutenberg-tm" not in text and "Produced by" not in text
    assert text.startswith("MOBY DICK; OR THE WHALE")
    assert text.endswith("only found another orphan.")
    assert moby.title == "Moby Dick; or The Whale"  # from the header's Title: line


def test_novel_chapters(moby: Document) -> None:
    titles = [c.title for c in moby.chapters]
    assert titles[0] == "Front matter"  # etymology and extracts
    assert titles[1] == "CHAPTER 1. Loomings"
    numbered = [t for t in titles if t.startswith("CHAPTER ")]
    assert len(numbered) == 135  # including the two-line titles of chapters 56, 57 and 73
    assert titles[-1] == "Epilogue"
    assert moby.chapters[1].text.startswith("Call me Ishmael.")
    assert all(c.text and "\n\n\n" not in c.text for c in moby.chapters)


def test_text_is_clean_nfc_and_reflowed(moby: Document) -> None:
    text = moby.text
    assert "\r" not in text and "\ufeff" not in text and "  " not in text
    assert unicodedata.is_normalized("NFC", text)
    # Hard-wrapped lines became one line per paragraph.
    first = moby.chapters[1].text.split("\n\n")[0]
    assert first.startswith("Call me Ishmael.") and first.endswith("the same feelings towards the ocean with me.")


def test_epub_sample_follows_spine_and_toc() -> None:
    doc = read_document(SAMPLES / "persuasion.epub")
    assert doc.title == "Persuasion"
    assert [c.title for c in doc.chapters] == [f"Chapter {n}" for n in range(1, 25)]
    assert doc.chapters[0].text.startswith("Sir Walter Elliot, of Kellynch Hall")
    assert "Chapter 2" not in doc.chapters[0].text  # the nav document is not prose


def test_html_sample() -> None:
    doc = read_document(SAMPLES / "sense-and-sensibility-1-6.html")
    assert doc.title == "Sense and Sensibility (chapters 1-6)"
    assert [c.title for c in doc.chapters][1:] == [f"Chapter {n}" for n in range(1, 7)]
    assert "var x" not in doc.text and "max-width" not in doc.text  # script and style dropped
    assert doc.chapters[1].text.startswith("The family of Dashwood had long been settled in Sussex.")


def test_pdf_sample_loses_headers_and_page_numbers() -> None:
    doc = read_document(SAMPLES / "northanger-abbey-1-4.pdf")
    assert [c.title for c in doc.chapters] == ["Chapter 1", "Chapter 2", "Chapter 3", "Chapter 4"]  # bookmarks
    assert "NORTHANGER ABBEY" not in doc.text and "Jane Austen" not in doc.text
    assert doc.chapters[0].text.startswith("No one who had ever seen Catherine Morland in her infancy")
    assert not any(p.strip().isdigit() for p in doc.text.split("\n\n"))
    # A sentence that crosses a page break comes back whole.
    assert "The day which dismissed the music-master was one of the happiest of Catherine's life." in doc.text


# ------------------------------------------------------------------------------ a PDF built here


def _book_pdf(path: Path, pages: list[list[str]], outline: bool = False) -> Path:
    """A PDF whose pages carry a running header, the given body lines and a page-number footer."""

    class Book(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", "", 9)
            self.cell(0, 8, "THE TEST VOLUME" if self.page_no() % 2 else "A. N. Author", align="C")
            self.ln(12)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", "", 9)
            self.cell(0, 8, f"- {self.page_no()} -", align="C")

    pdf = Book(format=(148, 210))  # A5 in mm
    for lines in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "", 10)
        for line in lines:
            if outline and line.startswith("Chapter"):
                pdf.start_section(line)
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


BODY = [
    [
        "Chapter 1",
        "The morning was grey and the harbour lay still under a thin",
        "mist that hid the far shore. Nobody on the quay could tell the",
        "hour, for the clock had stopped.",
    ],
    [
        "The fishermen waited with their nets folded beside them, and",
        "the children ran between the barrels with a great deal of unrea-",
        "sonable noise, as children will on a morning without school.",
    ],
    [
        "Chapter 2",
        "By noon the mist had lifted and the boats went out one after",
        "another into the bright water beyond the well-known rocks.",
        "The well-known rocks were the first thing that every sailor on",
    ],
    [
        "the coast learnt, long before he could read or write his name.",
        "Nobody could say afterwards who had seen the whale first, but",
        "everyone agreed that it was enormous.",
    ],
]


def test_built_pdf_header_footer_numbers_and_hyphenation(tmp_path: Path) -> None:
    doc = read_document(_book_pdf(tmp_path / "book.pdf", BODY))
    text = doc.text
    assert "THE TEST VOLUME" not in text and "A. N. Author" not in text
    assert "- 1 -" not in text and "- 2 -" not in text
    assert "unreasonable noise" in text and "unrea-" not in text  # hyphenated line break joined
    assert "well-known rocks" in text  # a real compound keeps its hyphen
    assert [c.title for c in doc.chapters] == ["Chapter 1", "Chapter 2"]  # headings, no outline
    assert "every sailor on the coast learnt, long before" in text
    # Lines of one paragraph re-flowed into one line, across the page break too.
    assert "thin mist that hid the far shore." in text
    assert "the clock had stopped.\n\nThe fishermen waited" in text


def test_built_pdf_chapters_from_bookmarks(tmp_path: Path) -> None:
    doc = read_document(_book_pdf(tmp_path / "marked.pdf", BODY, outline=True))
    assert [c.title for c in doc.chapters] == ["Chapter 1", "Chapter 2"]
    assert doc.chapters[0].text.startswith("The morning was grey")
    assert doc.chapters[1].text.startswith("By noon the mist")


def test_page_furniture_unit() -> None:
    words = ["whale", "harbour", "lantern", "compass", "anchor"]
    prose = [f"line {i} about the {{w}} in a body of ordinary prose on page {{n}}" for i in range(8)]
    body = [[p.format(w=words[n - 1], n=n) for p in prose] for n in range(1, 6)]
    pages = [[f"Header {n}", "Chapter 1", *body[n - 1], str(n)] for n in range(1, 6)]
    cleaned = strip_page_furniture(pages)
    assert cleaned[0] == ["Chapter 1", *body[0]]  # a heading running as a header keeps its first occurrence
    assert cleaned[1:] == body[1:]


def test_reflow_unit() -> None:
    lines = [
        "A long line of prose that goes to the right margin of the",
        "page and ends here.",
        "",
        "Next para- graph starts on a new line and it runs on and on to-",
        "wards the end of the line and then on to the",
        "right margin again.",
    ]
    assert reflow_lines(lines) == [
        "A long line of prose that goes to the right margin of the page and ends here.",
        "Next para- graph starts on a new line and it runs on and on towards the end of the line and then on to the "
        "right margin again.",
    ]


# ------------------------------------------------------------------------------ text details


def test_gutenberg_stripping_unit() -> None:
    paragraphs = [
        "The Project Gutenberg EBook of X",
        "Title: X",
        "*** START OF THE PROJECT GUTENBERG EBOOK X ***",
        "Produced by Someone",
        "Body one.",
        "Body two.",
        "*** END OF THE PROJECT GUTENBERG EBOOK X ***",
        "Licence text.",
    ]
    meta: dict[str, str] = {}
    assert list(strip_gutenberg(paragraphs, meta)) == ["Body one.", "Body two."]
    assert meta["title"] == "X"
    assert list(strip_gutenberg(["Plain text.", "No markers."])) == ["Plain text.", "No markers."]


@pytest.mark.parametrize(
    "line,title",
    [
        ("CHAPTER IV", "CHAPTER IV"),
        ("Chapter 12. The Chase.", "Chapter 12. The Chase"),
        ("BOOK II", "BOOK II"),
        ("Part One", "Part One"),
        ("Epilogue", "Epilogue"),
        ("Chapter the First", "Chapter the First"),
        ("Chapter 12 was the longest one he had ever written, and he knew it well, so he stopped writing there.", None),
        ("Call me Ishmael.", None),
        ("The book lay open.", None),
    ],
)
def test_heading_detection(line: str, title: str | None) -> None:
    assert heading_title(line) == title


def test_markdown_headings_and_toc_collapse(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# First\n\nAlpha text.\n\n# Second\n\nBeta\ntext.\n", encoding="utf-8")
    doc = read_document(path)
    assert [(c.title, c.text) for c in doc.chapters] == [("First", "Alpha text."), ("Second", "Beta text.")]
    toc = tmp_path / "toc.txt"
    toc.write_text("CONTENTS\n\nCHAPTER I\n\nCHAPTER II\n\nCHAPTER I\n\nOne.\n\nCHAPTER II\n\nTwo.\n", encoding="utf-8")
    assert [c.title for c in read_document(toc).chapters] == ["Front matter", "CHAPTER I", "CHAPTER II"]


def test_text_without_headings_is_one_chapter_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "short story.txt"
    path.write_text("Once upon a time.\n\nThe end.", encoding="utf-8")
    doc = read_document(path)
    assert [(c.title, c.text) for c in doc.chapters] == [("short story", "Once upon a time.\n\nThe end.")]


TEXT = "“Café,” said the naïve señor as he walked slowly along the river towards the old mill. " * 30


@pytest.mark.parametrize(
    "encoding,bom",
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("cp1252", b""),
    ],
)
def test_text_encodings(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = tmp_path / "enc.txt"
    path.write_bytes(bom + TEXT.encode(encoding))
    assert read_document(path).text == TEXT.strip()


def test_nfc_and_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "nfd.txt"
    path.write_text(
        "Cafe\u0301\tand\u00a0  more\u200b text\r\nsame paragraph\r\n\r\n\r\nnext\x07 one", encoding="utf-8"
    )
    assert read_document(path).text == "Caf\u00e9 and more text same paragraph\n\nnext one"


def test_streaming_matches_whole_document(moby: Document) -> None:
    streamed = list(iter_document_text(SAMPLES / "moby-dick.txt", chapters=True))
    titles = [x.title for x in streamed if isinstance(x, ChapterStart)]
    assert titles == [c.title for c in moby.chapters]
    assert "\n\n".join(x for x in streamed if isinstance(x, str)) == moby.text


def test_paragraphs_are_bounded_without_blank_lines() -> None:
    lines = ["word " * 20] * 5000  # ~500 KB, no blank line
    parts = list(iter_paragraphs(lines))
    assert len(parts) > 1 and max(len(p) for p in parts) < 70_000


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeStdin:
        buffer = io.BytesIO(b"CHAPTER 1\n\nFrom a pipe.\n")

    monkeypatch.setattr("sys.stdin", FakeStdin)
    doc = read_document("-")
    assert doc.source == "<stdin>" and [(c.title, c.text) for c in doc.chapters] == [("CHAPTER 1", "From a pipe.")]


def test_epub_without_toc_uses_headings(tmp_path: Path) -> None:
    path = tmp_path / "plain.epub"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr(
            "META-INF/container.xml",
            '<container><rootfiles><rootfile full-path="OEBPS/c.opf"/></rootfiles></container>',
        )
        zf.writestr(
            "OEBPS/c.opf",
            "<package><metadata><title>Tiny</title></metadata><manifest>"
            '<item id="a" href="a.xhtml" media-type="application/xhtml+xml"/>'
            '<item id="b" href="b%20x.xhtml" media-type="application/xhtml+xml"/></manifest>'
            '<spine><itemref idref="a"/><itemref idref="b"/></spine></package>',
        )
        zf.writestr("OEBPS/a.xhtml", "<html><body><h1>One</h1><p>First &amp; foremost.</p></body></html>")
        zf.writestr("OEBPS/b x.xhtml", "<html><body><h1>Two</h1><p>Second.</p></body></html>")
    doc = read_document(path)
    assert doc.title == "Tiny"
    assert [(c.title, c.text) for c in doc.chapters] == [("One", "First & foremost."), ("Two", "Second.")]


def test_text_that_mentions_pdf_magic_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("A PDF file starts with %PDF-1.7 and ends with %%EOF.", encoding="utf-8")
    assert read_document(path).text == "A PDF file starts with %PDF-1.7 and ends with %%EOF."


def test_epub_spine_skips_images(tmp_path: Path) -> None:
    path = tmp_path / "pictures.epub"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "META-INF/container.xml", '<container><rootfiles><rootfile full-path="c.opf"/></rootfiles></container>'
        )
        zf.writestr(
            "c.opf",
            '<package><manifest><item id="p" href="cover.png" media-type="image/png"/>'
            '<item id="a" href="a.xhtml" media-type="application/xhtml+xml"/></manifest>'
            '<spine><itemref idref="p"/><itemref idref="a"/></spine></package>',
        )
        zf.writestr("cover.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        zf.writestr("a.xhtml", "<html><body><p>Only this.</p></body></html>")
    assert read_document(path).text == "Only this."
