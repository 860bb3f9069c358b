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
