"""Progress bars for long commands (rich): segments of the current document, documents of a batch.

Shown on stderr only when it is a terminal and `--quiet` was not given, so piped output and logs
stay clean. `Bars` also implements `evaluation.Hooks`, so `evaluate`/`compare` drive it directly.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from infinisum.evaluation import Hooks, Item


class TokensPerSecond(ProgressColumn):
    """Reading speed of the segment bar, in tokens per second."""

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") != "tokens" or not task.speed:
            return Text("")
        return Text(f"{task.speed:,.0f} tok/s", style="progress.data.speed")


class Bars(Hooks):
    """A document bar (for batches) and a segment bar (tokens of the current document)."""

    def __init__(self, console: Console, enabled: bool, label: str = "") -> None:
        self.enabled = enabled and console.is_terminal
        self.label = label
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TokensPerSecond(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            disable=not self.enabled,
            transient=False,
        )
        self._documents = None
        self._segments = None

    def __enter__(self) -> "Bars":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    # -- documents of a batch
    def start(self, total: int) -> None:
        description = f"{self.label} documents" if self.label else "documents"
        self._documents = self.progress.add_task(description, total=total, unit="documents")

    def document_started(self, item: Item, index: int, total: int):
        if self._documents is None:
            self.start(total)
        return self.segments(item.id)

    def document_finished(self, item: Item, skipped: bool) -> None:
        if self._documents is None:
            return  # a single document: leave its finished segment bar on screen
        self.progress.advance(self._documents)
        if self._segments is not None:
            self.progress.remove_task(self._segments)
            self._segments = None

    # -- segments of one document
    def segments(self, name: str):
        """A callback (tokens read, tokens total) that drives a fresh segment bar."""
        if self._segments is not None:
            self.progress.remove_task(self._segments)
        self._segments = self.progress.add_task(f"  {name}", total=None, unit="tokens")
        task = self._segments

        def update(done: int, total: int) -> None:
            self.progress.update(task, completed=done, total=total)

        return update
