"""`score` and `info` through the real entry point, and model-loading errors (one line, exit 1)."""

import json

import pytest
from rouge_score import rouge_scorer
from typer.testing import CliRunner

from infinisum import loading, rouge
from infinisum.cli import app

runner = CliRunner()


def invoke(*args, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


# ---------------------------------------------------------------- score


def test_score_two_files_json_equals_rouge_score(tmp_path):
    (tmp_path / "s.txt").write_text("The cat sat on the mat. It purred.")
    (tmp_path / "r.txt").write_text("A cat was on the mat. It purred loudly.")
    result = invoke("score", tmp_path / "s.txt", tmp_path / "r.txt", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True).score(
        "A cat was on the mat.\nIt purred loudly.", "The cat sat on the mat.\nIt purred."
    )
    doc = data["documents"][0]
    assert doc["id"] == "s"
    assert doc["rouge1"] == pytest.approx(100 * expected["rouge1"].fmeasure, abs=1e-4)
    assert doc["rouge2"] == pytest.approx(100 * expected["rouge2"].fmeasure, abs=1e-4)
    assert doc["rougeL"] == pytest.approx(100 * expected["rougeLsum"].fmeasure, abs=1e-4)
    assert set(data["aggregate"]) == {"rouge1", "rouge2", "rougeL", "overall"}
    assert set(data["aggregate"]["rouge1"]) == {"f", "low", "high"}


def test_score_folders_paired_by_stem_with_multiple_references(tmp_path):
    summaries, refs = tmp_path / "summaries", tmp_path / "refs"
    summaries.mkdir()
    refs.mkdir()
    (summaries / "a.txt").write_text("the dog barked at the mailman")
    (summaries / "b.txt").write_text("a storm hit the town at night")
    (refs / "a.txt").write_text("the dog barked at the postman")
    (refs / "b").mkdir()
    (refs / "b" / "1.txt").write_text("nothing in common here")
    (refs / "b" / "2.txt").write_text("a storm hit the town")
    result = invoke("score", summaries, refs)
    assert result.exit_code == 0, result.output
    assert "all (bootstrap mid)" in result.stdout and "95% interval" in result.stdout
    data = json.loads(invoke("score", summaries, refs, "--json").stdout)
    b = data["documents"][1]
    assert b["id"] == "b"
    assert b["rouge1"] == pytest.approx(
        rouge.score_pair("a storm hit the town at night", "a storm hit the town").rouge1, abs=1e-4
    )


def test_score_missing_reference_is_named(tmp_path):
    summaries, refs = tmp_path / "summaries", tmp_path / "refs"
    summaries.mkdir()
    refs.mkdir()
    (summaries / "moby.txt").write_text("whale")
    result = invoke("score", summaries, refs)
    assert result.exit_code == 1
    assert "no reference for summary 'moby.txt'" in result.stderr
    assert "Traceback" not in result.output


def test_score_empty_folder(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "r").mkdir()
    result = invoke("score", tmp_path / "s", tmp_path / "r")
    assert result.exit_code == 1
    assert "is empty" in result.stderr


def test_score_unreadable_file(tmp_path):
    (tmp_path / "s.txt").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "r.txt").write_text("ok")
    result = invoke("score", tmp_path / "s.txt", tmp_path / "r.txt")
    assert result.exit_code == 1
    assert "not UTF-8" in result.stderr and "s.txt" in result.stderr


def test_debug_env_shows_the_traceback(tmp_path):
    result = invoke("score", tmp_path / "none.txt", tmp_path / "r.txt", env={"INFINISUM_DEBUG": "1"})
    assert result.exit_code != 0
    assert result.exception is not None and "does not exist" in str(result.exception)


# ---------------------------------------------------------------- info and model errors


def test_info_text_and_json(bundled):
    result = invoke("info", "--memory", "linear", "--tokens", 1000)
    assert result.exit_code == 0, result.output
    assert "linear" in result.stdout and "compressive memory" in result.stdout
    data = json.loads(invoke("info", "--model", bundled / "delta", "--tokens", 1000, "--format", "json").stdout)
    assert data["memory_rule"] == "delta"
    assert data["segment_length"] == 16
    # 2 memories (1 encoder layer + 1 decoder cross-memory) x heads 2 x d_k 16 x (d_v 16 + 1)
    assert data["compressive_memory_numbers"] == 2 * 2 * 16 * 17
    # K and V, 1 encoder layer, width 32, 1000 tokens
    assert data["full_kv_cache_numbers"] == 2 * 1 * 32 * 1000
    assert data["parameters"] > 0


def test_default_model_is_the_registrys(bundled):
    data = json.loads(invoke("info", "--format", "json").stdout)
    assert data["model"] == "delta"
    (bundled / "registry.json").write_text(json.dumps({"default": "linear"}))
    try:
        assert json.loads(invoke("info", "--format", "json").stdout)["model"] == "linear"
    finally:
        (bundled / "registry.json").write_text(json.dumps({"default": "delta"}))


def test_missing_bundled_model_lists_the_available(tmp_path, tiny_models, monkeypatch):
    import shutil

    shutil.copytree(tiny_models / "linear", tmp_path / "linear")
    monkeypatch.setattr(loading, "MODELS_DIR", tmp_path)
    result = invoke("info", "--memory", "delta")
    assert result.exit_code == 1
    assert "bundled model 'delta' is not installed; available: linear" in result.stderr
    # without a registry the first installed model is the default
    assert json.loads(invoke("info", "--format", "json").stdout)["model"] == "linear"


def test_no_bundled_model_at_all(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "MODELS_DIR", tmp_path)
    result = invoke("info")
    assert result.exit_code == 1
    assert "no bundled model is installed" in result.stderr


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: None, "unknown model 'nosuchmodel'"),
        (lambda d: d.mkdir(), "is not an infinisum model: it has no config.json"),
        (lambda d: (d.mkdir(), (d / "config.json").write_text('{"model_type": "bert"}')), "model_type='bert'"),
        (lambda d: (d.mkdir(), (d / "config.json").write_text("{oops")), "cannot read its config.json"),
    ],
)
def test_bad_models_are_one_line_errors(tmp_path, bundled, monkeypatch, make, message):
    monkeypatch.chdir(tmp_path)
    make(tmp_path / "nosuchmodel")
    result = invoke("info", "--model", "nosuchmodel")
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    if "unknown" in message:
        assert "linear, delta" in result.stderr
