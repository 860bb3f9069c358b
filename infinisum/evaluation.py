"""Batch evaluation: documents -> summaries -> BookSum-style ROUGE, and comparisons of systems.

Folder layout (`match`):

    DOCS_DIR/<id>.<ext>        any document `read_document` understands (.txt, .pdf, .epub, ...)
    REFS_DIR/<id>.txt          its reference summary, or
    REFS_DIR/<id>/*.txt        several references (each measure takes the best match)

Output layout (`evaluate`):

    OUT/run.json               what produced this folder (system, model, settings, inputs)
    OUT/summaries/<id>.txt     one summary per document, written as soon as it is finished
    OUT/seconds.json           summarization seconds per document
    OUT/scores.csv             one row per document: id, rouge1, rouge2, rougeL, overall, seconds
    OUT/report.json            aggregate (bootstrap mid, low, high) + per-document scores + settings

Every file is written atomically (temporary file in the same folder, then `os.replace`), so a run
stopped by Ctrl-C keeps every finished summary and no half-written one; `resume=True` skips the
documents whose summary exists. A folder holding another run's outputs is refused rather than
silently mixed in. Inputs are only ever read.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from infinisum import rouge
from infinisum.errors import EvaluationError

RUN_FILE = "run.json"
SUMMARIES = "summaries"


# ---------------------------------------------------------------- files


def write_atomic(path: Path, text: str) -> None:
    """Write text to `path` via a temporary file in the same folder and `os.replace`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_text(path: Path, what: str = "file") -> str:
    """Read a UTF-8 text file, turning failures into an EvaluationError naming the file."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise EvaluationError(f"cannot read {what} {path}: it is not UTF-8 text") from None
    except OSError as exc:
        raise EvaluationError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _visible_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))


# ---------------------------------------------------------------- matching documents to references


@dataclass(frozen=True)
class Item:
    """One document (or summary) to score and the reference file(s) it is matched to."""

    id: str
    path: Path
    references: tuple[Path, ...]

    def reference_texts(self) -> list[str]:
        return [read_text(p, "reference") for p in self.references]


def _references_for(refs_dir: Path, stem: str) -> tuple[Path, ...]:
    single = refs_dir / f"{stem}.txt"
    if single.is_file():
        return (single,)
    folder = refs_dir / stem
    if folder.is_dir():
        return tuple(p for p in _visible_files(folder) if p.suffix == ".txt")
    return ()


def match(docs_dir: Path, refs_dir: Path, what: str = "document") -> list[Item]:
    """Pair every file in `docs_dir` with its reference(s) in `refs_dir` by file stem."""
    docs_dir, refs_dir = Path(docs_dir), Path(refs_dir)
    for folder, role in ((docs_dir, f"{what}s"), (refs_dir, "references")):
        if not folder.is_dir():
            raise EvaluationError(f"{role} folder {folder} does not exist or is not a folder")
    files = _visible_files(docs_dir)
    if not files:
        raise EvaluationError(f"{what}s folder {docs_dir} is empty")
    seen: dict[str, Path] = {}
    items = []
    for path in files:
        if path.stem in seen:
            raise EvaluationError(
                f"two {what}s share the id {path.stem!r} ({seen[path.stem].name}, {path.name}); rename one"
            )
        seen[path.stem] = path
        references = _references_for(refs_dir, path.stem)
        if not references:
            raise EvaluationError(
                f"no reference for {what} {path.name!r}: expected {refs_dir / (path.stem + '.txt')} "
                f"or .txt files in {refs_dir / path.stem}/"
            )
        items.append(Item(path.stem, path, references))
    return items


# ---------------------------------------------------------------- systems


class System(Protocol):
    """Something that turns a document file into a summary."""

    name: str

    def describe(self) -> dict: ...

    def summarize(self, path: Path, progress: Callable[[int, int], None] | None = None) -> str: ...


class ModelSystem:
    """A loaded infinisum model behind the `System` protocol."""

    def __init__(self, name: str, summarizer, model_label: str) -> None:
        self.name = name
        self.summarizer = summarizer
        self.model_label = model_label

    def describe(self) -> dict:
        config = self.summarizer.model.config
        return {
            "system": self.name,
            "model": self.model_label,
            "memory_rule": config.memory_rule,
            "segment_length": config.segment_length,
            "settings": self.summarizer.settings.as_dict(),
        }

    def summarize(self, path: Path, progress=None) -> str:
        from infinisum.documents import read_document

        return self.summarizer.summarize(read_document(path), progress=progress).text


class BaselineSystem:
    """An extractive baseline (`lead`, `random`) with the models' token budget."""

    def __init__(self, name: str, budget: int, tokenizer, seed: int = 0) -> None:
        from infinisum.baselines import SYSTEMS

        if name not in SYSTEMS:
            raise EvaluationError(f"unknown system {name!r}; choose one of: {', '.join(SYSTEMS)}")
        self.name = name
        self.budget = budget
        self.tokenizer = tokenizer
        self.seed = seed

    def describe(self) -> dict:
        return {
            "system": self.name,
            "model": None,
            "budget_tokens": self.budget,
            "encoding": self.tokenizer.name,
            "seed": self.seed,
        }

    def summarize(self, path: Path, progress=None) -> str:
        from infinisum.baselines import run_baseline
        from infinisum.documents import read_document

        text = read_document(path).text
        return run_baseline(self.name, text, self.budget, lambda s: len(self.tokenizer.encode(s)), seed=self.seed)


# ---------------------------------------------------------------- one evaluation


@dataclass
class DocumentRecord:
    id: str
    rouge1: float
    rouge2: float
    rougeL: float
    overall: float
    seconds: float | None  # None for a resumed summary whose timing was not recorded

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class EvaluationResult:
    """The outcome of `evaluate`: scores per document, the aggregate report, where it was written."""

    system: str
    out_dir: Path
    report: rouge.Report
    records: list[DocumentRecord]
    description: dict = field(default_factory=dict)
    resumed: int = 0

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.records if r.seconds is not None)

    def report_dict(self) -> dict:
        return {
            **self.description,
            "conventions": "ROUGE F1 x 100, Porter stemmer, rougeL = rougeLsum with one sentence per line; "
            "overall = geometric mean; aggregate = bootstrap mid/low/high (95%)",
            "bootstrap": {
                "resamples": self.report.n_resamples,
                "seed": self.report.seed,
                "confidence": rouge.CONFIDENCE,
            },
            "aggregate": self.report.aggregate_dict(),
            "documents": [r.as_dict() for r in self.records],
        }


def _prepare_out_dir(out_dir: Path, run: dict, resume: bool) -> None:
    """Create `out_dir`, or check it holds this same run when resuming; refuse to mix runs."""
    run_file = out_dir / RUN_FILE
    if out_dir.exists() and not out_dir.is_dir():
        raise EvaluationError(f"output {out_dir} exists and is not a folder")
    existing = out_dir.is_dir() and any(out_dir.iterdir())
    if existing:
        if not resume:
            raise EvaluationError(
                f"output folder {out_dir} is not empty; pass --resume to continue the run in it, "
                "or choose another --output"
            )
        if not run_file.is_file():
            raise EvaluationError(
                f"output folder {out_dir} holds files but no {RUN_FILE}; it is not an infinisum run — "
                "choose another --output"
            )
        try:
            previous = json.loads(run_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EvaluationError(f"cannot read {run_file}: {exc}") from None
        if previous != run:
            changed = sorted(k for k in set(previous) | set(run) if previous.get(k) != run.get(k))
            raise EvaluationError(
                f"output folder {out_dir} holds a different run (differs in: {', '.join(changed)}); "
                "choose another --output"
            )
        return
    (out_dir / SUMMARIES).mkdir(parents=True, exist_ok=True)
    write_atomic(run_file, json.dumps(run, indent=2) + "\n")


def _scores_csv(records: Iterable[DocumentRecord]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "rouge1", "rouge2", "rougeL", "overall", "seconds"])
    for r in records:
        seconds = "" if r.seconds is None else f"{r.seconds:.3f}"
        writer.writerow([r.id, f"{r.rouge1:.4f}", f"{r.rouge2:.4f}", f"{r.rougeL:.4f}", f"{r.overall:.4f}", seconds])
    return buffer.getvalue()


class Hooks:
    """Progress callbacks `evaluate` calls; the CLI supplies rich progress bars, tests nothing."""

    def start(self, total: int) -> None:
        pass

    def document_started(self, item: Item, index: int, total: int) -> Callable[[int, int], None] | None:
        return None

    def document_finished(self, item: Item, skipped: bool) -> None:
        pass


def evaluate(
    items: list[Item],
    system: System,
    out_dir: Path,
    *,
    resume: bool = False,
    inputs: dict | None = None,
    hooks: Hooks | None = None,
    n_resamples: int = rouge.DEFAULT_RESAMPLES,
    seed: int = rouge.DEFAULT_SEED,
) -> EvaluationResult:
    """Summarize every item with `system` into `out_dir`, score against the references, write reports."""
    hooks = hooks or Hooks()
    out_dir = Path(out_dir)
    description = system.describe()
    _prepare_out_dir(out_dir, {**description, **(inputs or {})}, resume)
    summaries_dir = out_dir / SUMMARIES
    summaries_dir.mkdir(exist_ok=True)
    seconds_file = out_dir / "seconds.json"
    seconds: dict[str, float] = {}
    if seconds_file.is_file():
        try:
            seconds = {str(k): float(v) for k, v in json.loads(seconds_file.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, AttributeError):
            seconds = {}
    predictions: list[str] = []
    resumed = 0
    hooks.start(len(items))
    for index, item in enumerate(items):
        target = summaries_dir / f"{item.id}.txt"
        if resume and target.is_file():
            predictions.append(read_text(target, "summary"))
            resumed += 1
            hooks.document_finished(item, skipped=True)
            continue
        progress = hooks.document_started(item, index, len(items))
        start = time.perf_counter()
        summary = system.summarize(item.path, progress=progress)
        seconds[item.id] = time.perf_counter() - start
        write_atomic(target, summary.strip() + "\n")
        write_atomic(seconds_file, json.dumps(seconds, indent=1, sort_keys=True) + "\n")
        predictions.append(summary)
        hooks.document_finished(item, skipped=False)
    references = [item.reference_texts() for item in items]
    report = rouge.score_pairs(predictions, references, n_resamples=n_resamples, seed=seed)
    records = [
        DocumentRecord(item.id, s.rouge1, s.rouge2, s.rougeL, s.overall, seconds.get(item.id))
        for item, s in zip(items, report.documents)
    ]
    result = EvaluationResult(system.name, out_dir, report, records, {**description, **(inputs or {})}, resumed)
    write_atomic(out_dir / "scores.csv", _scores_csv(records))
    write_atomic(out_dir / "report.json", json.dumps(result.report_dict(), indent=2) + "\n")
    return result


# ---------------------------------------------------------------- peak memory


class PeakMemory:
    """Peak memory while a block runs: the process's resident-set high-water mark, reset on entry.

    Linux keeps the peak RSS in /proc/self/status (VmHWM); writing "5" to /proc/self/clear_refs
    resets it to the current RSS, so the value read on exit is the peak *during* the block (it
    includes whatever the process already held: Python, torch, ...; `start_mib` says how much).
    On CUDA the allocator's own peak is reported too. Where the reset is impossible the peak is None.
    """

    def __init__(self) -> None:
        self.start_mib: float | None = None
        self.peak_mib: float | None = None
        self.cuda_peak_mib: float | None = None

    @staticmethod
    def _status_mib(key: str) -> float | None:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0  # kB -> MiB
        except OSError:
            return None
        return None

    def __enter__(self) -> "PeakMemory":
        gc.collect()
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self._reset = True
        except OSError:
            self._reset = False
        self.start_mib = self._status_mib("VmRSS")
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
        except Exception:  # noqa: BLE001 - memory accounting must never break an evaluation
            pass
        return self

    def __exit__(self, *exc) -> None:
        self.peak_mib = self._status_mib("VmHWM") if self._reset else None
        try:
            import torch

            if torch.cuda.is_available():
                self.cuda_peak_mib = torch.cuda.max_memory_allocated() / 2**20
        except Exception:  # noqa: BLE001
            pass


# ---------------------------------------------------------------- comparing systems


@dataclass
class SystemRun:
    """One row of a comparison."""

    result: EvaluationResult
    memory: PeakMemory
    load_seconds: float


@dataclass
class Comparison:
    runs: list[SystemRun]
    tests: list[rouge.PairedTest]

    def as_dict(self) -> dict:
        return {
            "systems": [
                {
                    "system": run.result.system,
                    **{k: v for k, v in run.result.report.aggregate_dict().items()},
                    "seconds": round(run.result.seconds, 3),
                    "load_seconds": round(run.load_seconds, 3),
                    "peak_rss_mib": run.memory.peak_mib,
                    "rss_at_start_mib": run.memory.start_mib,
                    "cuda_peak_mib": run.memory.cuda_peak_mib,
                    "output": str(run.result.out_dir),
                }
                for run in self.runs
            ],
            "paired_bootstrap": [t.__dict__ for t in self.tests],
            "memory_measure": "peak resident set size of the process while the system loaded and ran "
            "(VmHWM, reset before each system; includes Python and torch)",
        }


def compare(
    items: list[Item],
    factories: list[tuple[str, Callable[[], System]]],
    out_dir: Path,
    *,
    resume: bool = False,
    inputs: dict | None = None,
    hooks_for: Callable[[str], Hooks] | None = None,
    n_resamples: int = rouge.DEFAULT_RESAMPLES,
    seed: int = rouge.DEFAULT_SEED,
) -> Comparison:
    """Evaluate each system (built lazily, one at a time, so memory is measured per system) into
    `out_dir/<name>/`, then paired-bootstrap the Overall difference of every pair of systems."""
    out_dir = Path(out_dir)
    runs: list[SystemRun] = []
    for name, factory in factories:
        with PeakMemory() as memory:
            start = time.perf_counter()
            system = factory()
            load_seconds = time.perf_counter() - start
            result = evaluate(
                items,
                system,
                out_dir / name,
                resume=resume,
                inputs=inputs,
                hooks=hooks_for(name) if hooks_for else None,
                n_resamples=n_resamples,
                seed=seed,
            )
            del system
        runs.append(SystemRun(result, memory, load_seconds))
        gc.collect()
    tests = []
    for i in range(len(runs)):
        for j in range(i + 1, len(runs)):
            a, b = runs[i].result, runs[j].result
            tests.append(
                rouge.paired_bootstrap(
                    a.report.documents,
                    b.report.documents,
                    system_a=a.system,
                    system_b=b.system,
                    n_resamples=n_resamples,
                    seed=seed,
                )
            )
    comparison = Comparison(runs, tests)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / "comparison.json", json.dumps(comparison.as_dict(), indent=2) + "\n")
    return comparison
