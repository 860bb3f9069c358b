"""Turning results into what the CLI prints: summaries (text/json/markdown), ROUGE tables, `info`."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.table import Table

from infinisum import rouge
from infinisum.summarizer import SummaryResult

FORMATS = ("text", "json", "markdown")


# ---------------------------------------------------------------- summaries


def summaries(results: Sequence[SummaryResult], fmt: str, meta: dict) -> str:
    """All summaries of a `summarize` call in one of FORMATS."""
    if fmt == "json":
        return json.dumps({**meta, "documents": [r.as_dict() for r in results]}, indent=2, ensure_ascii=False) + "\n"
    blocks = []
    for result in results:
        name = result.title or result.source
        lines = []
        if fmt == "markdown":
            lines.append(f"# {name}\n")
        elif len(results) > 1:
            lines.append(f"== {name} ==")
        chaptered = [p for p in result.parts if p.chapter_index is not None]
        if chaptered:
            for part in chaptered:
                title = part.chapter_title or f"Chapter {part.chapter_index + 1}"
                lines.append(f"## {title}\n" if fmt == "markdown" else f"[{title}]")
                lines.append(part.text + "\n")
        else:
            lines.append(result.text + ("\n" if fmt == "markdown" else ""))
        blocks.append("\n".join(lines).rstrip() + "\n")
    return "\n".join(blocks)


# ---------------------------------------------------------------- scores


def _cell(interval: rouge.Interval, with_ci: bool) -> str:
    if with_ci:
        return f"{interval.f:.2f} [{interval.low:.2f}, {interval.high:.2f}]"
    return f"{interval.f:.2f}"


def documents_table(ids: Sequence[str], report: rouge.Report, seconds: Sequence[float | None] | None = None) -> Table:
    """Per-document R-1/R-2/R-L/Overall, then the bootstrap aggregate with its 95% interval."""
    table = Table(title="ROUGE F1 x 100 (rougeL = rougeLsum; Porter stemmer)")
    table.add_column("document")
    for header in ("R-1", "R-2", "R-L", "Overall"):
        table.add_column(header, justify="right")
    if seconds is not None:
        table.add_column("seconds", justify="right")
    for i, (doc_id, score) in enumerate(zip(ids, report.documents)):
        row = [doc_id, *(f"{v:.2f}" for v in (score.rouge1, score.rouge2, score.rougeL, score.overall))]
        if seconds is not None:
            row.append("" if seconds[i] is None else f"{seconds[i]:.1f}")
        table.add_row(*row)
    agg = report.aggregate
    keys = ("rouge1", "rouge2", "rougeL", "overall")
    row = ["[bold]all (bootstrap mid)", *(f"[bold]{agg[k].f:.2f}" for k in keys)]
    if seconds is not None:
        row.append(f"{sum(s for s in seconds if s is not None):.1f}")
    table.add_section()
    table.add_row(*row)
    table.add_row(
        "95% interval", *(f"{agg[k].low:.1f}-{agg[k].high:.1f}" for k in keys), *([""] if seconds is not None else [])
    )
    return table


def systems_table(rows: Sequence[dict], memory_note: str | None = None) -> Table:
    """One row per system: aggregate ROUGE with intervals, Overall, seconds, peak memory if measured."""
    title = "ROUGE F1 x 100 (bootstrap mid; Overall with its 95% interval)"
    table = Table(title=title, caption=memory_note)
    table.add_column("system")
    for header in ("R-1", "R-2", "R-L", "Overall"):
        table.add_column(header, justify="right")
    table.add_column("seconds", justify="right")
    with_memory = any("peak_rss_mib" in r for r in rows)
    if with_memory:
        table.add_column("peak RSS MiB", justify="right")
    for r in rows:
        cells = [r["system"], *(_cell(r[k], False) for k in ("rouge1", "rouge2", "rougeL")), _cell(r["overall"], True)]
        cells.append(f"{r['seconds']:.1f}")
        if with_memory:
            peak = r.get("peak_rss_mib")
            cells.append("n/a" if peak is None else f"{peak:,.0f}")
        table.add_row(*cells)
    return table


def paired_table(tests: Sequence[rouge.PairedTest]) -> Table:
    table = Table(title="Paired bootstrap of the Overall difference (A - B)")
    for header in ("A", "B", "difference", "95% CI", "p"):
        table.add_column(header, justify="right" if header not in ("A", "B") else "left")
    for t in tests:
        table.add_row(
            t.system_a, t.system_b, f"{t.difference:+.2f}", f"[{t.low:+.2f}, {t.high:+.2f}]", f"{t.p_value:.3f}"
        )
    return table


def report_json(ids: Sequence[str], report: rouge.Report, extra: dict | None = None) -> dict:
    """The `report.json` shape for a plain scoring run (`score`)."""
    return {
        **(extra or {}),
        "bootstrap": {"resamples": report.n_resamples, "seed": report.seed, "confidence": rouge.CONFIDENCE},
        "aggregate": report.aggregate_dict(),
        "documents": [
            {"id": i, **{k: round(v, 4) for k, v in s.as_dict().items()}} for i, s in zip(ids, report.documents)
        ],
    }


# ---------------------------------------------------------------- info


def model_info(model, label: str, n_tokens: int) -> dict:
    """The figures `infinisum info` shows, as data."""
    config = model.config
    memory = int(model.memory_numbers())
    kv = int(model.kv_cache_numbers(n_tokens))
    return {
        "model": label,
        "memory_rule": config.memory_rule,
        "parameters": int(model.num_parameters()),
        "encoder_layers": config.encoder_layers,
        "decoder_layers": config.decoder_layers,
        "d_model": config.d_model,
        "n_heads": config.n_heads,
        "segment_length": config.segment_length,
        "encoding": config.encoding,
        "vocab_size": config.vocab_size,
        "compressive_memory_numbers": memory,
        "compressive_memory_mib_fp32": round(memory * 4 / 2**20, 3),
        "tokens": n_tokens,
        "full_kv_cache_numbers": kv,
        "full_kv_cache_mib_fp32": round(kv * 4 / 2**20, 3),
        "kv_cache_over_memory": round(kv / memory, 1) if memory else None,
    }


def info_table(data: dict) -> Table:
    table = Table(title=f"infinisum model: {data['model']}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("memory rule", data["memory_rule"])
    table.add_row("parameters", f"{data['parameters']:,}")
    table.add_row("layers (encoder / decoder)", f"{data['encoder_layers']} / {data['decoder_layers']}")
    table.add_row("width / heads", f"{data['d_model']} / {data['n_heads']}")
    table.add_row("segment length (tokens)", f"{data['segment_length']:,}")
    table.add_row("encoding (vocabulary)", f"{data['encoding']} ({data['vocab_size']:,})")
    table.add_row(
        "compressive memory (all layers, constant)",
        f"{data['compressive_memory_numbers']:,} numbers = {data['compressive_memory_mib_fp32']:,.2f} MiB fp32",
    )
    table.add_row(
        f"full KV cache for {data['tokens']:,} tokens",
        f"{data['full_kv_cache_numbers']:,} numbers = {data['full_kv_cache_mib_fp32']:,.2f} MiB fp32",
    )
    if data["kv_cache_over_memory"] is not None:
        table.add_row("KV cache / compressive memory", f"{data['kv_cache_over_memory']:,.1f}x")
    return table
