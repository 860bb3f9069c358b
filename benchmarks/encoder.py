"""Encoder benchmark: the streamed Infini-attention encoder against full attention, and against the matmul peak.

For one CPU-sized config (`CONFIG`) and each input length it measures, each in a FRESH process (so peak RSS
belongs to that length alone):
  - streamed: the encoder reads the input segment by segment under torch.inference_mode(); token ids are drawn
    per segment, so at most one segment of activations (and no L-sized tensor at all) ever exists;
  - full attention: the same weights (state dict loaded) in a config whose segment_length is the whole input, i.e.
    one segment of softmax attention over everything; skipped (null) where an estimate made before trying says it
    would need more than --full-max-gb of memory or --full-max-seconds of time.
In this process it measures the machine's fp32 matmul GFLOP/s with the same thread count, and reports the fraction
of it the streamed encoder reaches at 64k tokens (FLOPs counted analytically, `encoder_flops_per_token`).

    python benchmarks/encoder.py                          # all lengths, all cores -> benchmarks/results/encoder.json
    python benchmarks/encoder.py --lengths 4096 16384     # a quick run
    python benchmarks/encoder.py --one 65536 --mode streamed --threads 2   # one measurement, JSON on stdout

Targets (issue 2): peak RSS at 1M tokens within 1.2x of 16k; streamed >= 4x faster than full attention at 16k;
the encoder at 64k reaching >= 25% of the measured matmul peak.
Run it on an otherwise idle machine: with as many threads as cores, one busy core elsewhere makes every OpenMP
barrier wait and the streamed figures drop several-fold (seen here: 4166 tok/s with 1 thread vs 1565 with 2 on
2 cores while another process used one). The load average at the start is recorded, with a warning above 0.5.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from infinisum.configuration import InfiniConfig
from infinisum.modeling import InfiniForConditionalGeneration

CONFIG = dict(  # the benchmarked model: a realistic CPU-sized encoder-decoder
    vocab_size=8197,
    d_model=256,
    n_heads=4,
    d_ff=1024,
    encoder_layers=4,
    decoder_layers=2,
    segment_length=512,
    memory_rule="linear",
)
DEFAULT_LENGTHS = (4096, 16384, 65536, 262144, 1048576)
RESULTS = Path(__file__).resolve().parent / "results" / "encoder.json"
MB = 2**20

TARGET_RSS_RATIO = 1.2  # peak RSS at 1M / peak RSS at 16k, at most
TARGET_SPEEDUP_16K = 4.0  # streamed tokens/s / full-attention tokens/s at 16k, at least
TARGET_PEAK_FRACTION = 0.25  # encoder GFLOP/s at 64k / matmul GFLOP/s, at least


# ----------------------------------------------------------------------------- analytic counts


def encoder_flops_per_token(config: dict, attended: int) -> float:
    """FLOPs per input token of `stream_segment` (encoder layers + cross-memory writers), multiply-add = 2.

    d = d_model, f = d_ff, dh = d_head, n = keys each query attends to (segment_length streamed, L for full):
      per encoder layer:   8 d^2          qkv (d -> 3d) and out (d -> d) projections
                         + 4 d f          feed-forward up and down
                         + 4 n d          local softmax attention: Q K^T and A V
                         + 4 d dh + 2 d   memory read sigma(Q) M, sigma(Q) z (eq. 7) and write sigma(K)^T V (eq. 8)
                         + 2 d dh         delta rule only: the retrieval sigma(K) M inside eq. 9
      per decoder layer's cross writer:
                           4 d^2          cross K/V projection (d -> 2d)
                         + 2 d dh         its memory write (+ 2 d dh for delta)
    Norms, gelu, rotary, gates and the embedding lookup are elementwise or O(d) and left out.
    """
    d, f, dh = config["d_model"], config["d_ff"], config["d_model"] // config["n_heads"]
    delta = 2 * d * dh if config["memory_rule"] == "delta" else 0
    per_encoder_layer = 8 * d * d + 4 * d * f + 4 * attended * d + 4 * d * dh + 2 * d + delta
    per_cross_writer = 4 * d * d + 2 * d * dh + delta
    return config["encoder_layers"] * per_encoder_layer + config["decoder_layers"] * per_cross_writer


def full_attention_bytes(config: dict, length: int, materialises: bool) -> float:
    """Estimated extra memory of one full-attention segment of `length` tokens (float32, batch 1).

    Activations alive inside one layer: about 20 d + 2 d_ff floats per token (residual, norm, qkv, rotary
    copies, memory read/write float32 copies, gate mix, feed-forward hidden before/after gelu). If SDPA
    materialises the attention matrix (the "math" path) add scores and probabilities: 2 H L^2 floats.
    """
    d, f, h = config["d_model"], config["d_ff"], config["n_heads"]
    activations = length * (20 * d + 2 * f) * 4
    return activations + (2 * h * length * length * 4 if materialises else 0)


# ----------------------------------------------------------------------------- measurements


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, kB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MB


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def matmul_peak_gflops(sizes: tuple[int, ...] = (1024, 1536, 2048), repeats: int = 5) -> float:
    """Best fp32 GFLOP/s of square matmuls (2 n^3 FLOPs each) at the current torch thread count."""
    best = 0.0
    for n in sizes:
        a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
        torch.mm(a, b, out=c)  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            torch.mm(a, b, out=c)
            best = max(best, 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def build_model(config: dict) -> InfiniForConditionalGeneration:
    torch.manual_seed(0)
    return InfiniForConditionalGeneration(InfiniConfig(**config)).eval()


def random_ids(generator: torch.Generator, high: int, n: int) -> torch.Tensor:
    """(1, n) ordinary token ids in [0, high)."""
    return torch.randint(0, high, (1, n), generator=generator)


@torch.inference_mode()
def run_one(length: int, mode: str, config: dict) -> dict:
    """One measurement in this (fresh) process: tokens/s and peak RSS of encoding `length` tokens."""
    model = build_model(config)
    n, c = config["segment_length"], model.config
    high = min(c.pad_token_id, c.bos_token_id, c.eos_token_id)  # ordinary tokens only
    generator = torch.Generator().manual_seed(1)
    model.stream_segment(random_ids(generator, high, n), None, model.start_stream(1))  # warm-up, untimed
    if mode == "full":  # same weights, one segment over the whole input
        full = InfiniForConditionalGeneration(InfiniConfig(**{**config, "segment_length": length})).eval()
        full.load_state_dict(model.state_dict())
        del model
        model, n = full, length
    rss_before = current_rss_mb()
    state = model.start_stream(1)
    start = time.perf_counter()
    for offset in range(0, length, n):
        ids = random_ids(generator, high, min(n, length - offset))  # drawn per segment: no L-sized tensor
        state = model.stream_segment(ids, None, state)
    seconds = time.perf_counter() - start
    finite = all(torch.isfinite(m.M).all() and torch.isfinite(m.z).all() for m in state.encoder_memory)
    return {
        "length": length,
        "mode": mode,
        "threads": torch.get_num_threads(),
        "seconds": seconds,
        "tokens_per_s": length / seconds,
        "rss_before_run_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "state_finite": bool(finite and torch.isfinite(state.last_hidden).all()),
    }


def measure_in_fresh_process(length: int, mode: str, threads: int, rule: str) -> dict:
    """Run `--one LENGTH --mode MODE` in a new interpreter; its last stdout line is the JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--one", str(length), "--mode", mode]
    command += ["--threads", str(threads), "--memory-rule", rule]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        reason = f"process exited with {done.returncode}: " + (done.stderr.strip().splitlines() or [""])[-1]
        return {"error": reason}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- report


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return None if numerator is None or not denominator else numerator / denominator


def verdict(value: float | None, target: float, at_most: bool) -> str:
    if value is None:
        return "n/a (not measured in this run)"
    ok = value <= target if at_most else value >= target
    return "PASS" if ok else "FAIL"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_atomically(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as handle:
        json.dump(payload, handle, indent=2)
        handle.write("\n")
    os.replace(handle.name, path)


def fmt(value: float | None, spec: str) -> str:
    """format(value, spec), or a dash of the same width for a missing value."""
    width = int(spec.split(".")[0] or 0)
    return "-".rjust(width) if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=list(DEFAULT_LENGTHS), help="input lengths in tokens")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    parser.add_argument("--memory-rule", choices=("linear", "delta"), default=CONFIG["memory_rule"])
    parser.add_argument("--full-max-gb", type=float, default=12.0, help="skip full attention above this estimate")
    parser.add_argument("--full-max-seconds", type=float, default=900.0, help="skip full attention above this estimate")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one measurement, JSON on stdout
    parser.add_argument("--mode", choices=("streamed", "full"), default="streamed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = {**CONFIG, "memory_rule": args.memory_rule}

    if args.one is not None:
        print(json.dumps(run_one(args.one, args.mode, config)))
        return

    lengths = sorted(set(args.lengths))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if load is not None and load > 0.5:  # other processes make the timings low and, with all cores, erratic
        print(
            f"warning: load average {load:.1f} before the run; figures are only meaningful on an idle machine "
            f"(or use --threads below the number of idle cores)",
            file=sys.stderr,
        )
    peak_before = matmul_peak_gflops()
    print(f"matmul peak: {peak_before:.1f} GFLOP/s fp32 with {args.threads} threads", file=sys.stderr)
    streamed_flops = encoder_flops_per_token(config, config["segment_length"])
    rows = []
    materialises = True  # until a measurement shows SDPA keeps the attention matrix out of memory
    full_rate = None  # achieved full-attention FLOP/s at the last measured length (for the time estimate)
    for length in lengths:
        print(f"{length:>8} tokens: streamed ...", file=sys.stderr, flush=True)
        streamed = measure_in_fresh_process(length, "streamed", args.threads, args.memory_rule)
        row = {
            "length": length,
            "tokens_per_s": streamed.get("tokens_per_s"),
            "peak_rss_mb": streamed.get("peak_rss_mb"),
            "seconds": streamed.get("seconds"),
            "gflops": None if "error" in streamed else streamed_flops * streamed["tokens_per_s"] / 1e9,
            "rss_before_run_mb": streamed.get("rss_before_run_mb"),
            "state_finite": streamed.get("state_finite"),
            "error": streamed.get("error"),
        }
        full_flops = encoder_flops_per_token(config, length) * length
        estimate_bytes = full_attention_bytes(config, length, materialises)
        estimate_s = full_flops / (full_rate or peak_before * 1e9)
        row["full_attention_estimate_gb"] = estimate_bytes / 1e9
        row["full_attention_estimate_s"] = estimate_s
        full = {}
        if estimate_bytes > args.full_max_gb * 1e9:
            full = {"error": f"skipped: estimated {estimate_bytes / 1e9:.1f} GB > --full-max-gb {args.full_max_gb}"}
        elif estimate_s > args.full_max_seconds:
            full = {"error": f"skipped: estimated {estimate_s:.0f} s > --full-max-seconds {args.full_max_seconds:.0f}"}
        else:
            print(f"{length:>8} tokens: full attention (estimate {estimate_s:.0f} s) ...", file=sys.stderr, flush=True)
            full = measure_in_fresh_process(length, "full", args.threads, args.memory_rule)
            if "error" not in full:
                full_rate = full_flops / full["seconds"]
                grown_mb = full["peak_rss_mb"] - full["rss_before_run_mb"]
                matrix_mb = config["n_heads"] * length * length * 4 / MB
                materialises = grown_mb > 0.5 * matrix_mb  # measured, not assumed
        row["full_attention_tokens_per_s"] = full.get("tokens_per_s")
        row["full_attention_peak_rss_mb"] = full.get("peak_rss_mb")
        row["full_attention_seconds"] = full.get("seconds")
        row["full_attention_gflops"] = None if "error" in full else full_flops / full["seconds"] / 1e9
        row["full_attention_note"] = full.get("error")
        row["full_attention_materialises_matrix"] = materialises if "error" not in full else None
        rows.append(row)
    peak = max(peak_before, matmul_peak_gflops())  # measured again after the runs: the best seen is the peak

    by_length = {row["length"]: row for row in rows}
    get = lambda length, key: by_length.get(length, {}).get(key)  # noqa: E731
    tps_64k = get(65536, "tokens_per_s")
    gflops_64k = None if tps_64k is None else streamed_flops * tps_64k / 1e9
    rss_ratio = ratio(get(1048576, "peak_rss_mb"), get(16384, "peak_rss_mb"))
    speedup = ratio(get(16384, "tokens_per_s"), get(16384, "full_attention_tokens_per_s"))
    fraction = ratio(gflops_64k, peak)
    results = {
        "matmul_peak_gflops": peak,
        "encoder_gflops_at_64k": gflops_64k,
        "config": config,
        "lengths": rows,
        "rss_1m_over_16k": rss_ratio,
        "speedup_16k_streamed_vs_full": speedup,
        "fraction_of_peak_at_64k": fraction,
        "encoder_flops_per_token_streamed": streamed_flops,
        "matmul_peak_gflops_before_after": [peak_before, peak],
        "threads": args.threads,
        "load_average_at_start": load,
        "cpu": cpu_name(),
        "torch_version": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    write_atomically(args.out, results)

    print(
        f"\nencoder d_model={config['d_model']} layers={config['encoder_layers']}+{config['decoder_layers']} "
        f"segment={config['segment_length']} rule={config['memory_rule']}; {args.threads} threads; "
        f"matmul peak {peak:.1f} GFLOP/s"
    )
    print(
        f"{'tokens':>9} {'streamed tok/s':>15} {'GFLOP/s':>8} {'peak RSS MB':>12} "
        f"{'full tok/s':>11} {'GFLOP/s':>8} {'full RSS MB':>12}  note"
    )
    for row in rows:
        note = row["error"] or row["full_attention_note"] or ""
        print(
            f"{row['length']:>9} {fmt(row['tokens_per_s'], '15.0f')} {fmt(row['gflops'], '8.1f')} "
            f"{fmt(row['peak_rss_mb'], '12.0f')} {fmt(row['full_attention_tokens_per_s'], '11.0f')} "
            f"{fmt(row['full_attention_gflops'], '8.1f')} {fmt(row['full_attention_peak_rss_mb'], '12.0f')}  {note}"
        )
    print(
        f"\npeak RSS 1M / 16k = {fmt(rss_ratio, '.2f')} (target <= {TARGET_RSS_RATIO}): "
        f"{verdict(rss_ratio, TARGET_RSS_RATIO, at_most=True)}"
    )
    print(
        f"streamed / full attention at 16k = {fmt(speedup, '.2f')}x (target >= {TARGET_SPEEDUP_16K}x): "
        f"{verdict(speedup, TARGET_SPEEDUP_16K, at_most=False)}"
    )
    print(
        f"encoder at 64k = {fmt(gflops_64k, '.1f')} GFLOP/s = "
        f"{fmt(fraction and 100 * fraction, '.1f')}% of matmul peak "
        f"(target >= {100 * TARGET_PEAK_FRACTION:.0f}%): {verdict(fraction, TARGET_PEAK_FRACTION, at_most=False)}"
    )
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
