"""The `infinisum` command line. Thin commands: parse, call one library function, print.

The library raises `InfinisumError`; `run_safely` turns it into one line on stderr and exit 1
(set INFINISUM_DEBUG=1 to see the traceback).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

from infinisum import __version__
from infinisum.errors import InfinisumError

app = typer.Typer(
    help="Summarize whole books and PDFs with an Infini-Transformer (compressive memory).",
    no_args_is_help=True,
    add_completion=False,
)
err_console = Console(stderr=True)


def fail(message: str) -> None:
    """Print one line on stderr and exit 1."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


class run_safely:
    """Context manager: InfinisumError (and OSError) -> one line + exit 1, unless INFINISUM_DEBUG=1."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or os.environ.get("INFINISUM_DEBUG") == "1":
            return False
        if isinstance(exc, BrokenPipeError):  # `infinisum ... | head`: the reader left; stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(code=0)
        if isinstance(exc, (InfinisumError, OSError)):
            fail(str(exc))
        if isinstance(exc, KeyboardInterrupt):
            err_console.print("interrupted")
            raise typer.Exit(code=130)
        return False


def _version(value: bool) -> None:
    if value:
        print(f"infinisum {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """Summarize whole books and PDFs with an Infini-Transformer (compressive memory)."""


# Commands are added below, one function each (extract, summarize, evaluate, compare, score, info, train).


@app.command()
def train(
    config: Annotated[str, typer.Argument(help="Training config JSON (see configs/bundled.json).")],
    memory: Annotated[
        Optional[str], typer.Option("--memory", help="Override the memory rule: linear or delta.")
    ] = None,
    out_dir: Annotated[Optional[str], typer.Option("--out-dir", help="Override the run directory.")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="Override the number of optimizer steps.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT_DIR/checkpoint-last.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Train (or continue training) a model on JSONL (document, summary) data.

    Runs on CPU or CUDA unchanged; for several GPUs start it with `accelerate launch -m infinisum train ...`
    or `torchrun`. Checkpoints go to OUT_DIR/checkpoint-last (every save_every steps) and
    OUT_DIR/checkpoint-best (lowest dev loss); the log is OUT_DIR/log.jsonl.
    """
    import dataclasses

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from infinisum.training import TrainConfig
    from infinisum.training import train as run_training

    with run_safely():
        cfg = TrainConfig.from_file(config)
        if memory is not None:
            if memory not in ("linear", "delta"):
                fail(f"--memory must be linear or delta, got {memory!r}")
            cfg = dataclasses.replace(cfg, model={**cfg.model, "memory_rule": memory})
        if out_dir is not None:
            cfg = dataclasses.replace(cfg, out_dir=out_dir)
        if steps is not None:
            cfg = dataclasses.replace(cfg, steps=steps)
        progress = Progress(
            TextColumn("[bold]train[/]"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"),
            TextColumn("loss {task.fields[loss]:.3f}"),
            TextColumn("{task.fields[tps]:.0f} tok/s"),
            TimeRemainingColumn(),
            disable=quiet,
            console=err_console,
        )
        with progress:
            task = progress.add_task("train", total=cfg.steps, loss=float("nan"), tps=0.0)

            def on_step(record: dict) -> None:
                progress.update(task, completed=record["step"], loss=record["loss"], tps=record["input_tokens_per_s"])
                if "dev_loss" in record:
                    rouge = record.get("rouge", {})
                    progress.console.print(
                        f"step {record['step']}: dev loss {record['dev_loss']:.3f}"
                        + (f", dev ROUGE overall {rouge['overall']:.2f}" if "overall" in rouge else "")
                    )

            run = run_training(cfg, resume=resume, on_step=on_step)
        print(f"checkpoints in {run}")


# ---------------------------------------------------------------- summarize, evaluate, compare, score, info
# (heavy imports stay inside the commands so `infinisum --help` is instant)

from enum import Enum  # noqa: E402
from pathlib import Path  # noqa: E402

out_console = Console(soft_wrap=True)


class Memory(str, Enum):
    linear = "linear"
    delta = "delta"


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class Baseline(str, Enum):
    lead = "lead"
    random = "random"


MemoryOpt = Annotated[
    Optional[Memory],
    typer.Option(
        "--memory", help="Bundled model trained with this memory rule [default: the better one, per the model card]."
    ),
]
ModelOpt = Annotated[
    Optional[str],
    typer.Option(
        "--model", help="A bundled model name or a directory saved with save_pretrained (its config decides the rule)."
    ),
]
MaxLengthOpt = Annotated[
    int, typer.Option("--max-length", min=1, help="Longest summary, in tokens (also the baselines' budget).")
]
MinLengthOpt = Annotated[int, typer.Option("--min-length", min=0, help="Shortest summary, in tokens.")]
BeamsOpt = Annotated[int, typer.Option("--num-beams", min=1, help="Beam search width (1 = greedy).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _settings(max_length: int, min_length: int, num_beams: int):
    from infinisum.summarizer import GenerationSettings

    return GenerationSettings(
        max_new_tokens=max_length, min_new_tokens=min(min_length, max_length), num_beams=num_beams
    )


def _load(memory: Optional[Memory], model: Optional[str]):
    """-> (label, model, tokenizer) for --memory/--model."""
    from infinisum.loading import load_choice, resolve

    choice = resolve(memory.value if memory else None, model)
    loaded, tokenizer = load_choice(choice)
    return choice.label, loaded, tokenizer


def _emit(text: str, output: Optional[Path]) -> None:
    from infinisum.evaluation import write_atomic

    if output is None:
        print(text, end="" if text.endswith("\n") else "\n")
    else:
        write_atomic(output, text)
        err_console.print(f"wrote {output}", highlight=False)


@app.command()
def summarize(
    paths: Annotated[list[Path], typer.Argument(help="Documents to summarize (.txt, .md, .pdf, .epub, ...).")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    memory: MemoryOpt = None,
    model: ModelOpt = None,
    max_length: MaxLengthOpt = 160,
    min_length: MinLengthOpt = 40,
    num_beams: BeamsOpt = 4,
    per_chapter: Annotated[
        bool,
        typer.Option(
            "--per-chapter", help="A summary at every chapter boundary, from the memory at that point (one reading)."
        ),
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.text,
    password: Annotated[Optional[str], typer.Option("--password", help="Password of an encrypted PDF.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Summarize documents with the bundled Infini-Transformer; the summary goes to stdout."""
    with run_safely():
        from infinisum import render
        from infinisum.documents import read_document
        from infinisum.progress import Bars
        from infinisum.summarizer import Summarizer

        settings = _settings(max_length, min_length, num_beams)
        documents = [read_document(path, password=password) for path in paths]  # fail before the slow part
        label, loaded, tokenizer = _load(memory, model)
        summarizer = Summarizer(loaded, tokenizer, settings)
        results = []
        with Bars(err_console, enabled=not quiet) as bars:
            if len(documents) > 1:
                bars.start(len(documents))
            for path, document in zip(paths, documents):
                results.append(
                    summarizer.summarize(document, per_chapter=per_chapter, progress=bars.segments(path.name))
                )
                bars.document_finished(None, skipped=False)
        meta = {"model": label, "memory_rule": loaded.config.memory_rule, "settings": settings.as_dict()}
        _emit(render.summaries(results, fmt.value, meta), output)


def _systems_for_evaluate(memory, model, systems, no_model, settings):
    """(name, factory) pairs: the model first (unless --no-model), then each baseline."""
    from infinisum.evaluation import BaselineSystem, ModelSystem
    from infinisum.loading import encoding_for, resolve
    from infinisum.summarizer import Summarizer
    from infinisum.tokenizer import load_tokenizer

    factories = []
    if not no_model:
        label = resolve(memory.value if memory else None, model).label

        def build_model():
            name, loaded, tokenizer = _load(memory, model)
            summarizer = Summarizer(loaded, tokenizer, settings)
            summarizer.warm_up()
            return ModelSystem(Path(name).name if model else name, summarizer, name)

        factories.append((Path(label).name if model else label, build_model))
    if systems:
        tokenizer = load_tokenizer(encoding_for(memory.value if memory else None, model))
        for baseline in dict.fromkeys(s.value for s in systems):
            factories.append((baseline, lambda b=baseline: BaselineSystem(b, settings.max_new_tokens, tokenizer)))
    if not factories:
        fail("nothing to evaluate: --no-model needs at least one --system")
    return factories


def _inputs(docs_dir: Path, refs_dir: Path) -> dict:
    return {"docs_dir": str(docs_dir.resolve()), "refs_dir": str(refs_dir.resolve())}


def _print_result_json(data) -> None:
    import json

    print(json.dumps(data, indent=2))


@app.command()
def evaluate(
    docs_dir: Annotated[Path, typer.Argument(help="Folder of documents: <id>.<ext>.")],
    refs_dir: Annotated[Path, typer.Argument(help="Folder of references: <id>.txt, or <id>/*.txt for several.")],
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Output folder [default: evaluation-<system>].")
    ] = None,
    memory: MemoryOpt = None,
    model: ModelOpt = None,
    systems: Annotated[
        Optional[list[Baseline]],
        typer.Option("--system", help="Also run this extractive baseline (same token budget); repeatable."),
    ] = None,
    no_model: Annotated[bool, typer.Option("--no-model", help="Run only the --system baselines.")] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --output: skip documents already summarized.")
    ] = False,
    max_length: MaxLengthOpt = 160,
    min_length: MinLengthOpt = 40,
    num_beams: BeamsOpt = 4,
    fmt: Annotated[Format, typer.Option("--format", help="text prints tables; json prints the reports.")] = Format.text,
    quiet: QuietOpt = False,
) -> None:
    """Summarize every document and score it against its reference(s), BookSum-style.

    The model's outputs go to OUTPUT (summaries/, scores.csv, report.json); each --system baseline
    to OUTPUT/<system>/.
    """
    with run_safely():
        from infinisum import evaluation, render
        from infinisum.progress import Bars

        items = evaluation.match(docs_dir, refs_dir)
        settings = _settings(max_length, min_length, num_beams)
        factories = _systems_for_evaluate(memory, model, systems, no_model, settings)
        root = output or Path(f"evaluation-{factories[0][0]}")
        results = []
        try:
            for i, (name, factory) in enumerate(factories):
                system = factory()
                out = root if i == 0 else root / name
                with Bars(err_console, enabled=not quiet, label=name) as bars:
                    results.append(
                        evaluation.evaluate(
                            items, system, out, resume=resume, inputs=_inputs(docs_dir, refs_dir), hooks=bars
                        )
                    )
        except KeyboardInterrupt:
            fail(f"interrupted; finished summaries are kept in {root} — rerun with --resume to continue")
        if fmt is Format.json:
            reports = [r.report_dict() for r in results]
            _print_result_json(reports[0] if len(reports) == 1 else reports)
            return
        ids = [item.id for item in items]
        for r in results:
            out_console.print(f"[bold]{r.system}[/]  ({r.out_dir})" + (f", {r.resumed} resumed" if r.resumed else ""))
            out_console.print(render.documents_table(ids, r.report, [d.seconds for d in r.records]))


@app.command()
def compare(
    docs_dir: Annotated[Path, typer.Argument(help="Folder of documents: <id>.<ext>.")],
    refs_dir: Annotated[Path, typer.Argument(help="Folder of references: <id>.txt, or <id>/*.txt.")],
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Output folder [default: comparison].")
    ] = None,
    models: Annotated[
        Optional[list[str]],
        typer.Option("--model", help="Models to compare (names or directories) [default: linear and delta]."),
    ] = None,
    systems: Annotated[
        Optional[list[Baseline]], typer.Option("--system", help="Also run this baseline; repeatable.")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the runs in --output.")] = False,
    max_length: MaxLengthOpt = 160,
    min_length: MinLengthOpt = 40,
    num_beams: BeamsOpt = 4,
    fmt: Annotated[
        Format, typer.Option("--format", help="text prints tables; json prints the comparison.")
    ] = Format.text,
    quiet: QuietOpt = False,
) -> None:
    """Compare the linear and delta models (and any --system) on the same documents.

    One table (ROUGE, Overall, seconds, peak memory) plus a paired bootstrap test of every Overall
    difference. Each system writes to OUTPUT/<system>/.
    """
    with run_safely():
        from infinisum import evaluation, render
        from infinisum.evaluation import BaselineSystem, ModelSystem
        from infinisum.loading import BUNDLED_NAMES, load_model, model_directory
        from infinisum.progress import Bars
        from infinisum.summarizer import Summarizer
        from infinisum.tokenizer import load_tokenizer

        items = evaluation.match(docs_dir, refs_dir)
        settings = _settings(max_length, min_length, num_beams)
        names = list(dict.fromkeys(models or BUNDLED_NAMES))
        for name in names:
            model_directory(name)  # fail now, not after the first system has run
        factories = []
        for name in names:
            label = name if name in BUNDLED_NAMES else Path(name).name

            def build(name=name, label=label):
                loaded, tokenizer = load_model(name)
                summarizer = Summarizer(loaded, tokenizer, settings)
                summarizer.warm_up()  # counted in load time, not in the first document's seconds
                return ModelSystem(label, summarizer, name)

            factories.append((label, build))
        if systems:
            import json as _json

            encoding = _json.loads((model_directory(names[0]) / "config.json").read_text(encoding="utf-8")).get(
                "encoding", "gpt2"
            )
            tokenizer = load_tokenizer(encoding)
            for baseline in dict.fromkeys(s.value for s in systems):
                factories.append((baseline, lambda b=baseline: BaselineSystem(b, settings.max_new_tokens, tokenizer)))
        if len({label for label, _ in factories}) != len(factories):
            fail("two systems would share a name; give model directories with different names")
        root = output or Path("comparison")
        bars = Bars(err_console, enabled=not quiet)
        try:
            with bars:
                comparison = evaluation.compare(
                    items,
                    factories,
                    root,
                    resume=resume,
                    inputs=_inputs(docs_dir, refs_dir),
                    hooks_for=lambda name: _relabel(bars, name),
                )
        except KeyboardInterrupt:
            fail(f"interrupted; finished summaries are kept in {root} — rerun with --resume to continue")
        data = comparison.as_dict()
        if fmt is Format.json:
            _print_result_json(data)
            return
        note = (
            "peak RSS: the process's resident-set high-water mark while each system loaded and ran, "
            "reset before each (includes Python + torch); seconds: summarization time over all documents"
        )
        rows = []
        for row in data["systems"]:
            rows.append({**row, **{k: _interval(row[k]) for k in ("rouge1", "rouge2", "rougeL", "overall")}})
        out_console.print(render.systems_table(rows, note))
        if comparison.tests:
            out_console.print(render.paired_table(comparison.tests))
        out_console.print(f"outputs in {root}/<system>/ and {root / 'comparison.json'}", highlight=False)


def _interval(d: dict):
    from infinisum.rouge import Interval

    return Interval(**d)


def _relabel(bars, name: str):
    bars.label = name
    bars._documents = None
    return bars


@app.command()
def score(
    summary: Annotated[Path, typer.Argument(help="A summary file, or a folder of <id>.txt summaries.")],
    reference: Annotated[
        Path,
        typer.Argument(
            help="A reference file (or a folder of several for one summary), or a folder of <id>.txt / <id>/*.txt."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """ROUGE of existing summaries against references (BookSum-style; folders are paired by file stem)."""
    with run_safely():
        from infinisum import evaluation, render, rouge
        from infinisum.errors import EvaluationError

        if summary.is_dir():
            items = evaluation.match(summary, reference, what="summary")
        else:
            if not summary.exists():
                raise EvaluationError(f"summary {summary} does not exist")
            if reference.is_dir():
                refs = tuple(p for p in sorted(reference.glob("*.txt")) if not p.name.startswith("."))
                if not refs:
                    raise EvaluationError(f"reference folder {reference} has no .txt files")
            elif reference.exists():
                refs = (reference,)
            else:
                raise EvaluationError(f"reference {reference} does not exist")
            items = [evaluation.Item(summary.stem, summary, refs)]
        predictions = [evaluation.read_text(item.path, "summary") for item in items]
        report = rouge.score_pairs(predictions, [item.reference_texts() for item in items])
        ids = [item.id for item in items]
        if as_json:
            _print_result_json(render.report_json(ids, report))
        else:
            out_console.print(render.documents_table(ids, report))


@app.command()
def info(
    memory: MemoryOpt = None,
    model: ModelOpt = None,
    tokens: Annotated[
        int, typer.Option("--tokens", min=1, help="Input length for the full-KV-cache comparison.")
    ] = 500_000,
    fmt: Annotated[Format, typer.Option("--format", help="text or json (markdown prints text).")] = Format.text,
) -> None:
    """Model facts: parameters, segment length, memory rule, compressive memory vs a full KV cache.

    The KV cache figure is what full attention would hold for --tokens of input.
    """
    with run_safely():
        from infinisum import render

        label, loaded, _ = _load(memory, model)
        data = render.model_info(loaded, label, tokens)
        if fmt is Format.json:
            _print_result_json(data)
        else:
            out_console.print(render.info_table(data))


# ---------------------------------------------------------------- extract


@app.command()
def extract(
    path: Annotated[str, typer.Argument(help="Document (.txt .md .pdf .epub .html), or - for standard input.")],
    chapters: Annotated[
        bool, typer.Option("--chapters", help="List chapter titles with their token counts instead of the text.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable output (title, chapters, token counts, text).")
    ] = False,
    password: Annotated[Optional[str], typer.Option("--password", help="Password of an encrypted PDF.")] = None,
    encoding: Annotated[
        Optional[str],
        typer.Option("--encoding", help="Tokenizer for the counts (default: the bundled model's, else gpt2)."),
    ] = None,
) -> None:
    """Print a document's cleaned text exactly as the model will read it (check a PDF before summarizing)."""
    with run_safely():
        import json
        import sys

        from infinisum.documents import ChapterStart, iter_document_text, read_document
        from infinisum.segmenter import count_chapter_tokens, count_tokens

        if not chapters and not as_json:
            # Stream: a huge text file is printed paragraph by paragraph.
            try:
                for n, paragraph in enumerate(iter_document_text(path, password=password)):
                    sys.stdout.write(("\n\n" if n else "") + paragraph)
                sys.stdout.write("\n")
                sys.stdout.flush()
            except BrokenPipeError:  # `infinisum extract book.pdf | head`: the reader has seen enough
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return

        from infinisum.loading import encoding_for
        from infinisum.tokenizer import load_tokenizer

        tokenizer = load_tokenizer(encoding or encoding_for())
        if as_json:
            document = read_document(path, password=password)
            counts = count_chapter_tokens(document, tokenizer)
            items = []
            for chapter, n_tokens in zip(document.chapters, counts):
                item = {"title": chapter.title, "tokens": n_tokens, "characters": len(chapter.text)}
                if not chapters:
                    item["text"] = chapter.text
                items.append(item)
            data = {
                "source": document.source,
                "title": document.title,
                "encoding": tokenizer.name,
                "tokens": count_tokens(document, tokenizer),
                "chapters": items,
            }
            print(json.dumps(data, ensure_ascii=False, indent=2))
            return

        titles: list[str] = []

        def record(stream):
            for item in stream:
                if isinstance(item, ChapterStart):
                    titles.append(item.title)
                yield item

        counts = count_chapter_tokens(record(iter_document_text(path, password=password, chapters=True)), tokenizer)
        width = max(6, len(f"{max(counts, default=0):,}"))
        print(f"{'#':>4}  {'tokens':>{width}}  title")
        for index, (title, n_tokens) in enumerate(zip(titles, counts), start=1):
            print(f"{index:>4}  {n_tokens:>{width},}  {title}")
        print(f"{'':>4}  {sum(counts):>{width},}  total ({len(counts)} chapters, encoding {tokenizer.name})")
