"""The `infinisum` command line. Thin commands: parse, call one library function, print.

The library raises `InfinisumError`; `run_safely` turns it into one line on stderr and exit 1
(set INFINISUM_DEBUG=1 to see the traceback).
"""

from __future__ import annotations

import os
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
