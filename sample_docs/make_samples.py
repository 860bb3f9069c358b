"""Rebuild the sample documents from public-domain texts (a development tool, not part of infinisum).

The texts come from Debian packages that ship them as R data:

    apt-get download r-cran-janeaustenr r-cran-tokenizers
    for d in r-cran-*.deb; do dpkg-deb -x "$d" extracted; done
    python sample_docs/make_samples.py extracted/usr/lib/R/site-library

Needs the PyPI packages `rdata` (reads R's .rdb/.rdx), `EbookLib` (writes the EPUB) and `fpdf2`
(writes the PDF); none of them is a dependency of infinisum itself.
"""

from __future__ import annotations

import gzip
import html
import re
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_r_lazy_data(base: Path) -> dict[str, list[str]]:
    """Character vectors from an R package's lazy-load database (data/Rdata.rdb + .rdx)."""
    import rdata

    index = rdata.conversion.convert(rdata.parser.parse_data(gzip.decompress(base.with_suffix(".rdx").read_bytes())))
    blob = base.with_suffix(".rdb").read_bytes()
    out = {}
    for name, (offset, length) in index["variables"].items():
        raw = zlib.decompress(blob[int(offset) + 4 : int(offset) + int(length)])  # 4-byte length prefix
        out[str(name)] = [str(x) for x in rdata.conversion.convert(rdata.parser.parse_data(raw))]
    return out


def chapters_of(lines: list[str], heading: str) -> list[tuple[str, list[str]]]:
    """Split a novel's lines at lines matching `heading`; paragraphs are blank-line separated."""
    chapters: list[tuple[str, list[str]]] = []
    for line in lines:
        if re.fullmatch(heading, line.strip()):
            chapters.append((line.strip(), []))
        elif chapters:
            chapters[-1][1].append(line)
    result = []
    for title, body in chapters:
        paragraphs = [" ".join(p.split()) for p in "\n".join(body).split("\n\n") if p.strip()]
        result.append((title, paragraphs))
    return result


def make_txt(site: Path) -> None:
    text = load_r_lazy_data(site / "tokenizers" / "data" / "Rdata")["mobydick"][0]
    (HERE / "moby-dick.txt").write_text(text, encoding="utf-8", newline="")


def make_epub(novels: dict[str, list[str]]) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("infinisum-sample-persuasion")
    book.set_title("Persuasion")
    book.set_language("en")
    book.add_author("Jane Austen")
    items = []
    for n, (title, paragraphs) in enumerate(chapters_of(novels["persuasion"], r"Chapter \d+"), start=1):
        item = epub.EpubHtml(title=title, file_name=f"chapter-{n:02d}.xhtml", lang="en")
        body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
        item.content = f"<h2>{html.escape(title)}</h2>\n{body}"
        book.add_item(item)
        items.append(item)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(HERE / "persuasion.epub"), book)


def make_html(novels: dict[str, list[str]]) -> None:
    chapters = chapters_of(novels["sensesensibility"], r"CHAPTER \d+")[:6]
    parts = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<title>Sense and Sensibility (chapters 1-6)</title>",
             "<style>body { max-width: 40em; }</style><script>var x = 1;</script></head><body>",
             "<nav><a href=\"#c1\">Contents</a></nav>",
             "<h1>Sense and Sensibility</h1><p class=\"author\">by Jane Austen</p>"]
    for n, (title, paragraphs) in enumerate(chapters, start=1):
        parts.append(f"<h2 id=\"c{n}\">{html.escape(title.title())}</h2>")
        parts.extend(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    parts.append("<footer>Text: Jane Austen (1811), public domain.</footer></body></html>\n")
    (HERE / "sense-and-sensibility-1-6.html").write_text("\n".join(parts), encoding="utf-8")


def make_pdf(novels: dict[str, list[str]]) -> None:
    """Northanger Abbey, chapters 1-4, with running headers, page numbers and bookmarks."""
    from fpdf import FPDF

    chapters = chapters_of(novels["northangerabbey"], r"CHAPTER \d+")[:4]

    class Book(FPDF):
        def header(self) -> None:
            self.set_font("Times", "I", 9)
            self.cell(0, 8, "NORTHANGER ABBEY" if self.page_no() % 2 else "Jane Austen", align="C")
            self.ln(12)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Times", "", 9)
            self.cell(0, 8, str(self.page_no()), align="C")

    pdf = Book(format=(148, 210))  # A5 in mm
    pdf.set_title("Northanger Abbey (chapters 1-4)")
    pdf.set_author("Jane Austen")
    pdf.set_auto_page_break(True, margin=20)
    for title, paragraphs in chapters:
        pdf.add_page()
        pdf.start_section(title.title())
        pdf.set_font("Times", "B", 14)
        pdf.cell(0, 10, title.title(), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Times", "", 10.5)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5, paragraph.encode("latin-1", "replace").decode("latin-1"),
                           new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    pdf.output(str(HERE / "northanger-abbey-1-4.pdf"))


def main(site_library: str) -> None:
    site = Path(site_library)
    novels = load_r_lazy_data(site / "janeaustenr" / "data" / "Rdata")
    make_txt(site)
    make_epub(novels)
    make_html(novels)
    make_pdf(novels)


if __name__ == "__main__":
    main(sys.argv[1])
