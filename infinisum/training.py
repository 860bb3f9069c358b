"""Training: teacher-forced loss on (document, summary) JSONL, BPTT across segments, checkpoints, dev ROUGE.

One loop for CPU, one GPU or many: `accelerate` places the model and, under `accelerate launch` /
`torchrun`, wraps it in DistributedDataParallel and shards the batches. Nothing here is device-specific.

Data: JSONL lines {"id", "source", "kind": "pair" | "gsg", "document", "summary"} (scripts/build_corpus.py).
Each kind starts its decoder with its own token: `pair` targets (one-line synopses, titles, NAME lines)
start with <|sep|>, multi-sentence `gsg` targets with <|bos|> (the model's default decoder start), so at
inference the default start asks for a multi-sentence summary.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from infinisum.configuration import InfiniConfig
from infinisum.errors import InfinisumError
from infinisum.evaluation import write_atomic
from infinisum.modeling import InfiniForConditionalGeneration
from infinisum.tokenizer import Tokenizer, load_tokenizer

STATE_FILE = "trainer_state.pt"
LOG_FILE = "log.jsonl"


@dataclass
class TrainConfig:
    """Everything a run needs; saved as train_config.json next to its checkpoints."""

    train_file: str = "data/corpus/train.jsonl"
    dev_file: str = "data/corpus/dev.jsonl"
    out_dir: str = "runs/linear"
    init_from: str | None = None  # a save_pretrained dir to continue from (else fresh init from `model`)
    model: dict = field(default_factory=dict)  # InfiniConfig fields (memory_rule, sizes, segment_length, ...)
    max_input_tokens: int = 1024  # documents truncated to this many tokens (a multiple of segment_length)
    max_target_tokens: int = 96  # summaries truncated to this (eos included)
    kind_weights: dict = field(default_factory=lambda: {"pair": 0.5, "gsg": 0.5})  # objective mix
    batch_size: int = 8
    steps: int = 2000
    lr: float = 1e-3
    gate_lr: float = 1e-2  # gates' own group: larger lr, no weight decay
    weight_decay: float = 0.01
    warmup_steps: int = 100
    grad_clip: float = 1.0
    truncate_bptt: int | None = None  # detach the memory every k segments (None: full BPTT)
    checkpoint_segments: bool = False  # per-segment gradient checkpointing
    seed: int = 0
    threads: int | None = None  # torch CPU threads (None: torch's default)
    eval_every: int = 250
    save_every: int = 250
    dev_loss_examples: int = 200
    dev_rouge_examples: int = 48
    dev_max_new_tokens: int = 64

    @classmethod
    def from_file(cls, path: str | Path) -> "TrainConfig":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InfinisumError(f"cannot read training config {path}: {exc}") from None
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise InfinisumError(f"unknown training config fields {sorted(unknown)} in {path}")
        return cls(**data)


# ----------------------------------------------------------------------------- data


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]  # summary ids + eos
    start_id: int  # decoder start token for this kind
    kind: str
    summary: str


def load_examples(path: str | Path, tokenizer: Tokenizer, cfg: TrainConfig, limit: int | None = None) -> list[Example]:
    """Read and tokenize a JSONL split (documents truncated to max_input_tokens)."""
    path = Path(path)
    if not path.is_file():
        raise InfinisumError(f"training data {path} not found; build it with `python scripts/build_corpus.py`")
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
            if limit is not None and len(rows) >= limit:
                break
    docs = tokenizer.encode_batch([r["document"] for r in rows])
    sums = tokenizer.encode_batch([r["summary"] for r in rows])
    out = []
    for row, doc, summ in zip(rows, docs, sums):
        if not doc or not summ:
            continue
        start = tokenizer.sep_id if row["kind"] == "pair" else tokenizer.bos_id
        out.append(
            Example(
                doc[: cfg.max_input_tokens],
                summ[: cfg.max_target_tokens - 1] + [tokenizer.eos_id],
                start,
                row["kind"],
                row["summary"],
            )
        )
    return out


def collate(batch: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad inputs and targets to the batch's longest; labels -100 where padded.

    Inputs are not rounded up to whole segments: the encoder runs a short last segment at its own length.
    """
    n_in = max(len(e.input_ids) for e in batch)
    n_out = max(len(e.labels) for e in batch)
    input_ids = torch.full((len(batch), n_in), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), n_out), -100, dtype=torch.long)
    decoder_input_ids = torch.full((len(batch), n_out), pad_id, dtype=torch.long)
    for i, e in enumerate(batch):
        input_ids[i, : len(e.input_ids)] = torch.tensor(e.input_ids)
        labels[i, : len(e.labels)] = torch.tensor(e.labels)
        dec = [e.start_id] + e.labels[:-1]
        decoder_input_ids[i, : len(dec)] = torch.tensor(dec)
    return {
        "input_ids": input_ids,
        "attention_mask": input_ids != pad_id,
        "decoder_input_ids": decoder_input_ids,
        "labels": labels,
    }


def batches(examples: list[Example], cfg: TrainConfig, seed: int) -> Iterator[list[Example]]:
    """Endless batches drawn by kind weight; a pool of 16 batches is sorted by length to limit padding."""
    rng = random.Random(seed)
    by_kind = {k: [e for e in examples if e.kind == k] for k in cfg.kind_weights}
    kinds = [k for k in cfg.kind_weights if by_kind[k]]
    if not kinds:
        raise InfinisumError(f"no training examples of kinds {list(cfg.kind_weights)}")
    weights = [cfg.kind_weights[k] for k in kinds]
    while True:
        pool = [rng.choice(by_kind[rng.choices(kinds, weights)[0]]) for _ in range(16 * cfg.batch_size)]
        pool.sort(key=lambda e: len(e.input_ids))
        chunks = [pool[i : i + cfg.batch_size] for i in range(0, len(pool), cfg.batch_size)]
        rng.shuffle(chunks)
        yield from chunks


def stratified_sample(examples: list[Example], n: int, seed: int) -> list[Example]:
    """n examples split evenly across kinds (so the rare multi-sentence kind is not drowned out)."""
    rng = random.Random(seed)
    kinds = sorted({e.kind for e in examples})
    picked = []
    for i, kind in enumerate(kinds):
        pool = [e for e in examples if e.kind == kind]
        share = n // len(kinds) + (1 if i < n % len(kinds) else 0)
        picked += rng.sample(pool, min(share, len(pool)))
    return picked


# ----------------------------------------------------------------------------- loop


def build_model(cfg: TrainConfig, tokenizer: Tokenizer) -> InfiniForConditionalGeneration:
    if cfg.init_from:
        return InfiniForConditionalGeneration.from_pretrained(cfg.init_from)
    fields = {
        "vocab_size": tokenizer.vocab_size,
        "pad_token_id": tokenizer.pad_id,
        "bos_token_id": tokenizer.bos_id,
        "eos_token_id": tokenizer.eos_id,
        "encoding": tokenizer.name,
        **cfg.model,
    }
    return InfiniForConditionalGeneration(InfiniConfig(**fields))


def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 10%."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps))
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def dev_loss(model, examples: list[Example], cfg: TrainConfig, pad_id: int) -> float:
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(examples), cfg.batch_size):
        batch = collate(examples[i : i + cfg.batch_size], pad_id)
        batch = {k: v.to(model.device) for k, v in batch.items()}
        n = int((batch["labels"] != -100).sum())
        total += float(model(**batch).loss) * n
        count += n
    model.train()
    return total / max(count, 1)


@torch.no_grad()
def dev_rouge(model, examples: list[Example], tokenizer: Tokenizer, cfg: TrainConfig) -> dict:
    """ROUGE of greedy summaries on dev multi-sentence (gsg) and one-line (pair) targets, with the
    same scoring code as `infinisum evaluate`."""
    from infinisum.rouge import score_pairs

    model.eval()
    predictions, references = [], []
    for e in examples:
        ids = torch.tensor([e.input_ids], device=model.device)
        out = model.generate(
            input_ids=ids,
            decoder_start_token_id=e.start_id,
            max_new_tokens=cfg.dev_max_new_tokens,
            num_beams=1,
            no_repeat_ngram_size=3,
        )
        predictions.append(tokenizer.decode(out[0].tolist()))
        references.append(e.summary)
    model.train()
    report = score_pairs(predictions, references)
    return {"rouge": {k: v["f"] for k, v in report.aggregate_dict().items()}, "sample": predictions[:2]}


def save_atomically(model, directory: Path) -> None:
    """save_pretrained into a sibling folder, then swap it in: a run killed mid-save keeps the old one."""
    tmp, old = directory.with_name(directory.name + ".tmp"), directory.with_name(directory.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    if directory.exists():
        directory.replace(old)
    tmp.replace(directory)
    shutil.rmtree(old, ignore_errors=True)


def train(cfg: TrainConfig, resume: bool = False, on_step: Callable[[dict], None] | None = None) -> Path:
    """Run (or resume) training; returns the run directory. `on_step` receives each logged record."""
    from accelerate import Accelerator

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "train_config.json", json.dumps(dataclasses.asdict(cfg), indent=2))
    accelerator = Accelerator()
    torch.manual_seed(cfg.seed)

    encoding = cfg.model.get("encoding") or (
        json.loads((Path(cfg.init_from) / "config.json").read_text())["encoding"] if cfg.init_from else "infinisum-8k"
    )
    tokenizer = load_tokenizer(encoding)
    last = out / "checkpoint-last"
    if resume and (last / "config.json").is_file():
        cfg = dataclasses.replace(cfg, init_from=str(last))
    model = build_model(cfg, tokenizer)
    model.truncate_bptt, model.checkpoint_segments = cfg.truncate_bptt, cfg.checkpoint_segments
    optimizer = torch.optim.AdamW(model.parameter_groups(cfg.weight_decay, cfg.lr, cfg.gate_lr), betas=(0.9, 0.98))
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    step, best = 0, float("inf")
    if resume and (out / STATE_FILE).is_file():
        state = torch.load(out / STATE_FILE, weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        step, best = state["step"], state["best_dev_loss"]
    model, optimizer = accelerator.prepare(model, optimizer)
    raw = accelerator.unwrap_model(model)

    train_examples = load_examples(cfg.train_file, tokenizer, cfg)
    dev_examples = load_examples(cfg.dev_file, tokenizer, cfg)
    dev_for_loss = stratified_sample(dev_examples, cfg.dev_loss_examples, cfg.seed)
    dev_for_rouge = stratified_sample(dev_examples, cfg.dev_rouge_examples, cfg.seed)
    # each process draws its own batches; the step count decides where a resumed run picks up
    stream = batches(train_examples, cfg, seed=cfg.seed * 1000 + accelerator.process_index + step)

    model.train()
    t0, tokens = time.perf_counter(), 0
    while step < cfg.steps:
        batch = collate(next(stream), raw.config.pad_token_id)
        batch = {k: v.to(accelerator.device) for k, v in batch.items()}
        for group, base in zip(optimizer.param_groups, base_lrs):
            group["lr"] = base * lr_factor(step, cfg)
        loss = model(**batch).loss
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        tokens += int(batch["attention_mask"].sum()) * accelerator.num_processes
        elapsed = time.perf_counter() - t0
        record = {
            "step": step,
            "loss": loss.item(),
            "elapsed_s": elapsed,  # since this (possibly resumed) run started
            "input_tokens": tokens,  # document tokens read since this run started, all processes
            "input_tokens_per_s": tokens / elapsed,
            "gates": torch.sigmoid(torch.stack([m.beta for n, m in raw.named_modules() if n.endswith("gate")]))
            .mean()
            .item(),
        }
        if step % cfg.eval_every == 0 or step == cfg.steps:
            record["dev_loss"] = dev_loss(model, dev_for_loss, cfg, raw.config.pad_token_id)
            if cfg.dev_rouge_examples:
                record.update(dev_rouge(raw, dev_for_rouge, tokenizer, cfg))
        if accelerator.is_main_process:
            if "dev_loss" in record and record["dev_loss"] < best:
                best = record["dev_loss"]
                save_atomically(raw, out / "checkpoint-best")
            if step % cfg.save_every == 0 or step == cfg.steps:
                save_atomically(raw, last)
                tmp = out / (STATE_FILE + ".tmp")
                torch.save({"optimizer": optimizer.state_dict(), "step": step, "best_dev_loss": best}, tmp)
                tmp.replace(out / STATE_FILE)
            with (out / LOG_FILE).open("a") as f:
                f.write(json.dumps(record) + "\n")
            if on_step:
                on_step(record)
    return out
