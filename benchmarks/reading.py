"""Reading benchmark: how fast documents become token segments, and how little memory that takes.

    python benchmarks/reading.py            # ~ a few minutes; writes benchmarks/results/reading.json

Measures (each figure is reading + cleaning + tokenizing, as `infinisum summarize` does it):
1. the novel (sample_docs/moby-dick.txt): MB/s of file size, best of 3 runs;
2. a PDF of 300+ pages generated here (fpdf2) with running headers and page numbers: pages/s;
3. a 1 GiB text file generated in a temporary folder: streamed through `iter_segments` in a
   fresh subprocess, whose peak resident size (VmHWM: everything since it started, imports and
   tokenizer included) is reported next to its resident size before streaming; the file is
   deleted afterwards.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOVEL = ROOT / "sample_docs" / "moby-dick.txt"
RESULTS = ROOT / "benchmarks" / "results" / "reading.json"
SEGMENT_LENGTH = 2048


def bench_novel(runs: int = 3) -> dict:
    from infinisum.documents import read_document
    from infinisum.segmenter import iter_segments
    from infinisum.tokenizer import load_tokenizer

    tokenizer = load_tokenizer("gpt2")
    size = NOVEL.stat().st_size
    best = None
    for _ in range(runs):
        t0 = time.perf_counter()
        document = read_document(NOVEL)
        t1 = time.perf_counter()
        n_tokens = sum(s.n_tokens for s in iter_segments(document, tokenizer, SEGMENT_LENGTH))
        t2 = time.perf_counter()
        if best is None or t2 - t0 < best[0]:
            best = (t2 - t0, t1 - t0, t2 - t1, n_tokens)
    total, read, tokenize, n_tokens = best
    return {
        "file": NOVEL.name,
        "bytes": size,
        "tokens": n_tokens,
        "chapters": len(document.chapters),
        "seconds": round(total, 3),
        "read_clean_seconds": round(read, 3),
        "tokenize_seconds": round(tokenize, 3),
        "MB_per_s": round(size / 1e6 / total, 2),
        "tokens_per_s": round(n_tokens / total),
    }


def make_pdf(path: Path, min_pages: int = 300) -> int:
    """A book-like PDF from the novel's text: running headers, page numbers, bookmarks per chapter."""
    from fpdf import FPDF

    from infinisum.documents import read_document

    document = read_document(NOVEL)

    class Book(FPDF):
        def header(self) -> None:
            self.set_font("Times", "I", 9)
            self.cell(0, 8, "MOBY DICK" if self.page_no() % 2 else "Herman Melville", align="C")
            self.ln(12)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Times", "", 9)
            self.cell(0, 8, str(self.page_no()), align="C")

    pdf = Book(format=(148, 210))
    pdf.set_auto_page_break(True, margin=20)
    for chapter in document.chapters:
        if pdf.pages_count >= min_pages:
            break
        pdf.add_page()
        title = chapter.title.encode("latin-1", "replace").decode("latin-1")
        pdf.start_section(title)
        pdf.set_font("Times", "B", 13)
        pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Times", "", 10.5)
        for paragraph in chapter.text.split("\n\n"):
            pdf.multi_cell(
                0, 5, paragraph.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT"
            )
            pdf.ln(2)
    pdf.output(str(path))
    return pdf.pages_count


def bench_pdf(folder: Path) -> dict:
    from infinisum.documents import read_document
    from infinisum.segmenter import iter_segments
    from infinisum.tokenizer import load_tokenizer

    path = folder / "book.pdf"
    pages = make_pdf(path)
    tokenizer = load_tokenizer("gpt2")
    t0 = time.perf_counter()
    document = read_document(path)
    t1 = time.perf_counter()
    n_tokens = sum(s.n_tokens for s in iter_segments(document, tokenizer, SEGMENT_LENGTH))
    t2 = time.perf_counter()
    return {
        "pages": pages,
        "bytes": path.stat().st_size,
        "chapters": len(document.chapters),
        "tokens": n_tokens,
        "seconds": round(t2 - t0, 2),
        "read_clean_seconds": round(t1 - t0, 2),
        "pages_per_s": round(pages / (t2 - t0), 1),
    }


_STREAM_CHILD = r"""
import json, sys, time
from infinisum.documents import iter_document_text
from infinisum.segmenter import iter_segments
from infinisum.tokenizer import load_tokenizer

def status_kib(field):  # VmRSS: resident now; VmHWM: peak resident since exec
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

tokenizer = load_tokenizer("gpt2")
before = status_kib("VmRSS")
t0 = time.perf_counter()
n_tokens = n_segments = 0
for segment in iter_segments(iter_document_text(sys.argv[1], chapters=True), tokenizer, int(sys.argv[2]),
                             chapter_aligned=True):
    n_tokens += segment.n_tokens
    n_segments += 1
seconds = time.perf_counter() - t0
print(json.dumps({"tokens": n_tokens, "segments": n_segments, "seconds": seconds,
                  "rss_before_kib": before, "peak_kib": status_kib("VmHWM")}))
"""


def bench_1gb(folder: Path, size: int = 1 << 30) -> dict:
    """Stream a generated 1 GiB text file through the segmenter in a subprocess; report its peak RSS."""
    from infinisum.documents import read_document

    path = folder / "big.txt"
    unit = read_document(NOVEL).text.encode("utf-8") + b"\n\n"
    with open(path, "wb") as f:
        written = 0
        while written < size:
            piece = unit[: size - written]
            f.write(piece)
            written += len(piece)
    try:
        child = subprocess.run(
            [sys.executable, "-c", _STREAM_CHILD, str(path), str(SEGMENT_LENGTH)],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        path.unlink()
    data = json.loads(child.stdout)
    return {
        "bytes": size,
        "tokens": data["tokens"],
        "segments": data["segments"],
        "seconds": round(data["seconds"], 1),
        "MB_per_s": round(size / 1e6 / data["seconds"], 2),
        # VmHWM, not ru_maxrss: on Linux ru_maxrss carries the parent's size over fork + exec.
        "peak_rss_MiB": round(data["peak_kib"] / 1024, 1),
        "rss_before_streaming_MiB": round(data["rss_before_kib"] / 1024, 1),
    }


def main() -> None:
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}",
        "encoding": "gpt2",
        "segment_length": SEGMENT_LENGTH,
    }
    results["novel"] = bench_novel()
    print(f"novel   {results['novel']['MB_per_s']:.2f} MB/s  ({results['novel']}")
    with tempfile.TemporaryDirectory() as tmp:
        results["pdf"] = bench_pdf(Path(tmp))
        print(f"pdf     {results['pdf']['pages_per_s']:.1f} pages/s  ({results['pdf']})")
        results["text_1gb"] = bench_1gb(Path(tmp))
        print(f"1 GB    peak RSS {results['text_1gb']['peak_rss_MiB']:.0f} MiB  ({results['text_1gb']})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp_file = RESULTS.with_suffix(".json.tmp")
    tmp_file.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_file, RESULTS)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
