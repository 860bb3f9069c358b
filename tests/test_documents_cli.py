"""`infinisum extract` through the real entry point (typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infinisum.cli import app
from infinisum.documents import read_document
from infinisum.segmenter import count_chapter_tokens, count_tokens
from infinisum.tokenizer import load_tokenizer

SAMPLES = Path(__file__).resolve().parent.parent / "sample_docs"
runner = CliRunner()


def test_extract_prints_exactly_the_model_text() -> None:
    path = SAMPLES / "northanger-abbey-1-4.pdf"
    result = runner.invoke(app, ["extract", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == read_document(path).text + "\n"


def test_extract_chapters_with_token_counts() -> None:
    path = SAMPLES / "persuasion.epub"
    result = runner.invoke(app, ["extract", str(path), "--chapters", "--encoding", "gpt2"])
    assert result.exit_code == 0, result.output
    counts = count_chapter_tokens(read_document(path), load_tokenizer("gpt2"))
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["1", f"{counts[0]:,}", "Chapter", "1"]
    assert lines[24].split()[-2:] == ["Chapter", "24"]
    assert f"{sum(counts):,}" in lines[-1] and "24 chapters" in lines[-1]


def test_extract_json() -> None:
    path = SAMPLES / "sense-and-sensibility-1-6.html"
    result = runner.invoke(app, ["extract", str(path), "--json", "--encoding", "gpt2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    document = read_document(path)
    assert data["title"] == document.title and data["encoding"] == "gpt2"
    assert data["tokens"] == count_tokens(document, load_tokenizer("gpt2"))
    assert [c["title"] for c in data["chapters"]] == [c.title for c in document.chapters]
    assert "\n\n".join(c["text"] for c in data["chapters"]) == document.text


def test_extract_from_stdin() -> None:
    result = runner.invoke(app, ["extract", "-"], input=b"Line one\nof a paragraph.\n\n\nSecond.\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Line one of a paragraph.\n\nSecond.\n"


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("missing.txt", None, "does not exist"),
        ("book.docx", b"x", "unsupported file type '.docx'; supported: .txt"),
        ("empty.txt", b"", "is empty"),
        ("binary.txt", b"\x00\x01\x02\x03" * 100, "binary file"),
        ("broken.pdf", b"%PDF-1.4\nnot really a pdf\n", "truncated"),
        ("broken.epub", b"PK\x03\x04garbage", "not a valid zip archive"),
    ],
)
def test_extract_bad_input_is_one_line_and_exit_1(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["extract", str(path), "--chapters"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 2  # one (wrapped) line


def test_extract_unknown_encoding(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(SAMPLES / "moby-dick.txt"), "--chapters", "--encoding", "nope"])
    assert result.exit_code == 1
    assert "unknown encoding 'nope'" in result.output and "gpt2" in result.output


def test_extract_encrypted_pdf_with_password(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(SAMPLES / "northanger-abbey-1-4.pdf"))
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    locked = runner.invoke(app, ["extract", str(path)])
    assert locked.exit_code == 1 and "pass its password with --password" in locked.output
    opened = runner.invoke(app, ["extract", str(path), "--password", "s3cret", "--chapters", "--encoding", "gpt2"])
    assert opened.exit_code == 0, opened.output
    assert "4 chapters" in opened.stdout
