"""Evaluation logic without a model: matching, baselines, resume, refusal to mix runs, Ctrl-C, atomic files."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infinisum import baselines, evaluation
from infinisum.cli import app
from infinisum.errors import EvaluationError

runner = CliRunner()
DOC = "Call me Ishmael. Some years ago I went to sea. The whale was white. Ahab wanted it dead. The end came fast."


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def folders(tmp_path):
    docs, refs = tmp_path / "docs", tmp_path / "refs"
    docs.mkdir()
    refs.mkdir()
    (docs / "moby.txt").write_text(DOC)
    (docs / "tale.md").write_text("It was the best of times. It was the worst of times. Paris and London.")
    (refs / "moby.txt").write_text("Ishmael goes to sea and Ahab hunts the white whale.")
    (refs / "tale").mkdir()
    (refs / "tale" / "1.txt").write_text("Times were good and bad in Paris and London.")
    (refs / "tale" / "2.txt").write_text("A tale of two cities.")
    return docs, refs


# ---------------------------------------------------------------- baselines


def test_lead_takes_first_sentences_within_budget():
    assert baselines.lead(DOC, 8, words) == "Call me Ishmael. Some years ago I"
    assert baselines.lead(DOC, 9, words) == "Call me Ishmael. Some years ago I went"
    assert baselines.lead(DOC, 100, words) == DOC
    assert baselines.lead(DOC, 3, words) == "Call me Ishmael."


def test_lead_grows_its_window_over_long_texts(monkeypatch):
    monkeypatch.setattr(baselines, "_LEAD_WINDOW", 10)
    assert baselines.lead(DOC, 8, words) == "Call me Ishmael. Some years ago I"


def test_random_is_seeded_in_document_order_and_within_budget():
    sentences = [f"Sentence number {i} is here." for i in range(30)]
    text = " ".join(sentences)
    a = baselines.random(text, 20, words, seed=1)
    assert a == baselines.random(text, 20, words, seed=1)
    assert a != baselines.random(text, 20, words, seed=2)
    assert words(a) <= 20
    picked = [s for s in sentences if s in a]
    assert len(picked) == 4 and " ".join(picked) == a  # whole sentences, in document order


def test_unknown_baseline():
    with pytest.raises(ValueError):
        baselines.run_baseline("oracle", DOC, 10, words)


# ---------------------------------------------------------------- matching


def test_match_pairs_documents_with_single_and_multiple_references(folders):
    docs, refs = folders
    items = evaluation.match(docs, refs)
    assert [i.id for i in items] == ["moby", "tale"]
    assert [p.name for p in items[1].references] == ["1.txt", "2.txt"]


def test_match_errors(folders, tmp_path):
    docs, refs = folders
    (refs / "moby.txt").unlink()
    with pytest.raises(EvaluationError, match="no reference for document 'moby.txt'"):
        evaluation.match(docs, refs)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvaluationError, match="is empty"):
        evaluation.match(tmp_path / "empty", refs)
    with pytest.raises(EvaluationError, match="does not exist"):
        evaluation.match(tmp_path / "nope", refs)
    (docs / "tale.txt").write_text("again")
    (refs / "moby.txt").write_text("x")
    with pytest.raises(EvaluationError, match="share the id 'tale'"):
        evaluation.match(docs, refs)


# ---------------------------------------------------------------- evaluate


class Recorder:
    """A System that echoes the first words of a document, and can be told to 'press Ctrl-C'."""

    name = "echo"

    def __init__(self, interrupt_on: str | None = None, tag: str = "v1"):
        self.calls: list[str] = []
        self.interrupt_on = interrupt_on
        self.tag = tag

    def describe(self):
        return {"system": self.name, "tag": self.tag}

    def summarize(self, path, progress=None):
        if Path(path).stem == self.interrupt_on:
            raise KeyboardInterrupt
        self.calls.append(Path(path).stem)
        return " ".join(Path(path).read_text().split()[:12])


def test_evaluate_writes_summaries_scores_and_report(folders, tmp_path):
    docs, refs = folders
    out = tmp_path / "out"
    result = evaluation.evaluate(evaluation.match(docs, refs), Recorder(), out, n_resamples=100)
    assert sorted(p.name for p in (out / "summaries").iterdir()) == ["moby.txt", "tale.txt"]
    rows = list(csv.DictReader((out / "scores.csv").open()))
    assert [r["id"] for r in rows] == ["moby", "tale"]
    report = json.loads((out / "report.json").read_text())
    assert set(report["aggregate"]) == {"rouge1", "rouge2", "rougeL", "overall"}
    assert set(report["documents"][0]) == {"id", "rouge1", "rouge2", "rougeL", "overall", "seconds"}
    assert report["system"] == "echo"
    assert float(rows[0]["rouge1"]) == pytest.approx(result.records[0].rouge1, abs=1e-4)
    assert not list(out.rglob("*.tmp"))  # atomic writes leave no temporaries
    assert (docs / "moby.txt").read_text() == DOC  # inputs untouched


def test_interrupted_run_keeps_finished_summaries_and_resumes(folders, tmp_path):
    docs, refs = folders
    items = evaluation.match(docs, refs)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        evaluation.evaluate(items, Recorder(interrupt_on="tale"), out)
    assert (out / "summaries" / "moby.txt").is_file()
    assert not (out / "summaries" / "tale.txt").exists()
    with pytest.raises(EvaluationError, match="not empty; pass --resume"):
        evaluation.evaluate(items, Recorder(), out)
    with pytest.raises(EvaluationError, match="different run"):
        evaluation.evaluate(items, Recorder(tag="v2"), out, resume=True)
    system = Recorder()
    result = evaluation.evaluate(items, system, out, resume=True, n_resamples=100)
    assert system.calls == ["tale"]  # moby was skipped
    assert result.resumed == 1
    assert result.records[0].seconds is not None  # its timing was kept from the first run


def test_resume_refuses_a_folder_that_is_not_a_run(folders, tmp_path):
    docs, refs = folders
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(EvaluationError, match="not an infinisum run"):
        evaluation.evaluate(evaluation.match(docs, refs), Recorder(), out, resume=True)


def test_peak_memory_sees_an_allocation():
    with evaluation.PeakMemory() as memory:
        block = bytearray(64 * 2**20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page
        del block
    if memory.peak_mib is None:
        pytest.skip("this kernel does not allow resetting the peak RSS")
    assert memory.peak_mib - memory.start_mib >= 60


# ---------------------------------------------------------------- the CLI with baselines only


def test_cli_evaluate_baselines_only(folders, tmp_path):
    docs, refs = folders
    out = tmp_path / "run"
    args = [
        "evaluate",
        str(docs),
        str(refs),
        "--no-model",
        "--system",
        "lead",
        "--system",
        "random",
        "--max-length",
        "12",
        "-o",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "lead" in result.stdout and "random" in result.stdout
    assert (out / "summaries" / "moby.txt").read_text().startswith("Call me Ishmael.")
    assert (out / "random" / "report.json").is_file()
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--resume" in again.stderr
    resumed = runner.invoke(app, args + ["--resume", "--format", "json"])
    assert resumed.exit_code == 0, resumed.output
    reports = json.loads(resumed.stdout)
    assert [r["system"] for r in reports] == ["lead", "random"]


def test_cli_evaluate_missing_reference_is_named(folders):
    docs, refs = folders
    (refs / "moby.txt").unlink()
    result = runner.invoke(app, ["evaluate", str(docs), str(refs), "--no-model", "--system", "lead"])
    assert result.exit_code == 1
    assert "no reference for document 'moby.txt'" in result.stderr


def test_cli_evaluate_unreadable_document(folders, tmp_path):
    docs, refs = folders
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (refs / "broken.txt").write_text("x")
    result = runner.invoke(
        app, ["evaluate", str(docs), str(refs), "--no-model", "--system", "lead", "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "broken.pdf" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
