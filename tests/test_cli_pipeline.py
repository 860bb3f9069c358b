"""summarize / evaluate / compare through the real entry point with tiny bundled models."""

import json

import pytest
from typer.testing import CliRunner

from infinisum.cli import app

runner = CliRunner()
FAST = ["--max-length", "8", "--min-length", "2", "--num-beams", "2", "--quiet"]
BOOK = """CHAPTER I.

The sailor left the port at dawn. The sea was calm and grey.

CHAPTER II.

A storm rose in the night. The mast broke and the crew prayed.
"""


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def corpus(tmp_path):
    docs, refs = tmp_path / "docs", tmp_path / "refs"
    docs.mkdir()
    refs.mkdir()
    (docs / "sea.txt").write_text(BOOK)
    (docs / "tale.txt").write_text("It was the best of times. It was the worst of times.")
    (refs / "sea.txt").write_text("A sailor leaves port; a storm breaks the mast.")
    (refs / "tale.txt").write_text("Good times and bad times.")
    return docs, refs


def test_summarize_text_json_markdown_and_output_file(bundled, corpus, tmp_path):
    docs, _ = corpus
    text = invoke("summarize", docs / "sea.txt", *FAST)
    assert text.exit_code == 0, text.output
    assert text.stdout.strip()
    data = json.loads(invoke("summarize", docs / "sea.txt", docs / "tale.txt", "--format", "json", *FAST).stdout)
    assert data["model"] == "delta" and data["memory_rule"] == "delta"  # the registry's default
    assert [d["title"] for d in data["documents"]] == ["sea", "tale"]
    assert data["documents"][0]["summary"] == text.stdout.strip()
    linear = json.loads(invoke("summarize", docs / "sea.txt", "--memory", "linear", "--format", "json", *FAST).stdout)
    assert linear["memory_rule"] == "linear"
    out = tmp_path / "summary.md"
    result = invoke("summarize", docs / "sea.txt", "--per-chapter", "--format", "markdown", "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    markdown = out.read_text()
    assert markdown.startswith("# sea") and "## CHAPTER I" in markdown and "## CHAPTER II" in markdown


def test_summarize_unreadable_and_missing_files(bundled, tmp_path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 garbage")
    for path in (tmp_path / "bad.pdf", tmp_path / "missing.txt"):
        result = invoke("summarize", path, *FAST)
        assert result.exit_code == 1
        assert path.name in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_evaluate_with_model_and_baseline_then_resume(bundled, corpus, tmp_path):
    docs, refs = corpus
    out = tmp_path / "eval"
    result = invoke("evaluate", docs, refs, "--memory", "linear", "--system", "lead", "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["system"] == "linear" and report["memory_rule"] == "linear"
    assert [d["id"] for d in report["documents"]] == ["sea", "tale"]
    assert (out / "lead" / "report.json").is_file()
    again = invoke(
        "evaluate",
        docs,
        refs,
        "--memory",
        "linear",
        "--system",
        "lead",
        "-o",
        out,
        "--resume",
        "--format",
        "json",
        *FAST,
    )
    assert again.exit_code == 0, again.output
    reports = json.loads(again.stdout)
    assert reports[0]["aggregate"] == report["aggregate"]  # same summaries, same seed


def test_compare_linear_delta_and_lead(bundled, corpus, tmp_path):
    docs, refs = corpus
    out = tmp_path / "cmp"
    result = invoke("compare", docs, refs, "--system", "lead", "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    assert "linear" in result.stdout and "delta" in result.stdout and "Paired bootstrap" in result.stdout
    data = json.loads((out / "comparison.json").read_text())
    assert [s["system"] for s in data["systems"]] == ["linear", "delta", "lead"]
    assert [(t["system_a"], t["system_b"]) for t in data["paired_bootstrap"]] == [
        ("linear", "delta"),
        ("linear", "lead"),
        ("delta", "lead"),
    ]
    for system in data["systems"]:
        assert set(system["overall"]) == {"f", "low", "high"} and system["seconds"] >= 0
        assert (out / system["system"] / "scores.csv").is_file()


def test_compare_with_a_missing_bundled_model(tmp_path, corpus, monkeypatch, tiny_models):
    import shutil

    from infinisum import loading

    shutil.copytree(tiny_models / "linear", tmp_path / "models" / "linear")
    monkeypatch.setattr(loading, "MODELS_DIR", tmp_path / "models")
    docs, refs = corpus
    result = invoke("compare", docs, refs, "-o", tmp_path / "cmp", *FAST)
    assert result.exit_code == 1
    assert "bundled model 'delta' is not installed; available: linear" in result.stderr
