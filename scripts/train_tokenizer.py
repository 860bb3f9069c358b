"""Train the `infinisum-8k` byte-level BPE on the corpus and write it as a tiktoken ranks file.

    python scripts/train_tokenizer.py --data data/corpus --out infinisum-8k.tiktoken   # train
    python scripts/train_tokenizer.py --data data/corpus --verify                       # check shipped file

The shipped infinisum/data/encodings/infinisum-8k.tiktoken is what the bundled models were trained with;
overwriting it invalidates them, so --out has no default. It was trained on the corpus as built by
commit f4c13a6 (see data/SOURCES.md); `--verify` checks it against the current corpus.

The BPE is trained with Hugging Face `tokenizers` (byte-level, GPT-2 pre-tokenisation regex) on the
documents and summaries of train.jsonl, then converted to tiktoken's format: one line per token,
base64 of its bytes, a space, its rank. Ranks 0-255 are the 256 single bytes (rank = byte value),
ranks 256.. are the merges in the order the trainer learned them. The file loads with
`tiktoken.load.load_tiktoken_bpe` and `tiktoken.Encoding(pat_str=GPT2_PATTERN, ...)`; the five special
tokens (pad, bos, eos, mask, sep) are added after the ranks by infinisum/tokenizer.py.

After writing, the script checks on dev.jsonl that tiktoken round-trips the text exactly and gives the
same ids as the Hugging Face tokenizer, and prints characters per token.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
DEFAULT_OUT = REPO / "infinisum/data/encodings/infinisum-8k.tiktoken"


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters (used by byte-level BPE)."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(printable, (chr(c) for c in chars)))


def corpus_texts(path: Path) -> Iterator[str]:
    """Documents and summaries of a corpus JSONL file, in file order."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            yield row["document"]
            yield row["summary"]


def train_hf_bpe(train_file: Path, vocab_size: int):
    """A byte-level BPE with vocab_size tokens (256 bytes + merges), no special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
        show_progress=False,
    )
    tok.train_from_iterator(corpus_texts(train_file), trainer=trainer)
    return tok


def hf_to_ranks(tok) -> tuple[dict[bytes, int], dict[int, int]]:
    """tiktoken ranks from a trained HF byte-level BPE, and the HF id -> rank map.

    Single bytes get rank = byte value; every merged token gets 256 + its position in the merge list.
    """
    decode = {c: b for b, c in bytes_to_unicode().items()}
    model = json.loads(tok.to_str())["model"]
    vocab: dict[str, int] = model["vocab"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    ranks: dict[bytes, int] = {bytes([b]): b for b in range(256)}
    for a, b in merges:
        token = bytes(decode[c] for c in a + b)
        if token in ranks:
            raise ValueError(f"merge {a!r}+{b!r} repeats token {token!r}; tiktoken cannot represent it")
        ranks[token] = len(ranks)
    id_to_rank = {i: ranks[bytes(decode[c] for c in s)] for s, i in vocab.items()}
    return ranks, id_to_rank


def write_ranks(ranks: dict[bytes, int], path: Path) -> None:
    """Write a tiktoken ranks file atomically (base64 token, space, rank; sorted by rank)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="ascii", newline="\n") as f:
        for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
            f.write(f"{base64.b64encode(token).decode('ascii')} {rank}\n")
    os.replace(tmp, path)


def load_encoding(path: Path, name: str = "infinisum-8k"):
    """A tiktoken Encoding from a ranks file, without special tokens."""
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    return tiktoken.Encoding(
        name=name, pat_str=GPT2_PATTERN, mergeable_ranks=load_tiktoken_bpe(str(path)), special_tokens={}
    )


def verify(enc, hf_tok, id_to_rank: dict[int, int], texts: list[str]) -> dict[str, float]:
    """Round-trip and HF-agreement checks on texts; returns the figures printed in the report."""
    chars = tokens = same = 0
    for text in texts:
        ids = enc.encode_ordinary(text)
        if enc.decode(ids) != text:
            raise SystemExit(f"tiktoken does not round-trip: {text[:80]!r}")
        hf_ids = [id_to_rank[i] for i in hf_tok.encode(text).ids]
        same += hf_ids == ids
        chars += len(text)
        tokens += len(ids)
    return {"texts": len(texts), "identical_to_hf": same / max(len(texts), 1), "chars_per_token": chars / tokens}


def verify_file(path: Path, dev_file: Path, vocab_size: int) -> int:
    """Check a ranks file's layout and exact round trip on dev, and print characters per token by source."""
    enc = load_encoding(path)
    if enc.n_vocab != vocab_size:
        raise SystemExit(f"{path} has {enc.n_vocab} ranks, expected {vocab_size}")
    if [enc.decode_single_token_bytes(b) for b in range(256)] != [bytes([b]) for b in range(256)]:
        raise SystemExit(f"{path}: ranks 0-255 are not the single bytes in order")
    per_source: dict[str, list[int]] = {}
    with open(dev_file, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            counts = per_source.setdefault(row["source"], [0, 0])
            for text in (row["document"], row["summary"]):
                ids = enc.encode_ordinary(text)
                if enc.decode(ids) != text:
                    raise SystemExit(f"tiktoken does not round-trip: {text[:80]!r}")
                counts[0] += len(text)
                counts[1] += len(ids)
    chars = sum(c for c, _ in per_source.values())
    tokens = sum(t for _, t in per_source.values())
    print(f"{path}: {enc.n_vocab} ranks; dev round-trips exactly; {chars / tokens:.3f} characters per token")
    for source, (c, t) in sorted(per_source.items()):
        print(f"  {source:22} {c / t:.3f} chars/token ({t:,d} tokens)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO / "data/corpus", help="folder with train/dev.jsonl")
    parser.add_argument(
        "--out",
        type=Path,
        help="tiktoken ranks file to write (the shipped one is " + str(DEFAULT_OUT.relative_to(REPO)) + ")",
    )
    parser.add_argument(
        "--verify",
        nargs="?",
        const=DEFAULT_OUT,
        type=Path,
        metavar="RANKS",
        help="only check an existing ranks file (default: the shipped one) on dev.jsonl",
    )
    parser.add_argument("--vocab-size", type=int, default=8192, help="number of ranks (256 bytes + merges)")
    args = parser.parse_args(argv)
    if args.verify is not None:
        return verify_file(args.verify, args.data / "dev.jsonl", args.vocab_size)
    if args.out is None:
        parser.error("--out is required to train (or use --verify)")

    t0 = time.time()
    tok = train_hf_bpe(args.data / "train.jsonl", args.vocab_size)
    ranks, id_to_rank = hf_to_ranks(tok)
    if len(ranks) != args.vocab_size:
        raise SystemExit(f"trained {len(ranks)} ranks, expected {args.vocab_size}: corpus too small?")
    write_ranks(ranks, args.out)
    print(f"wrote {args.out} ({len(ranks)} ranks) in {time.time() - t0:.0f}s")

    enc = load_encoding(args.out)
    dev = list(corpus_texts(args.data / "dev.jsonl"))
    stats = verify(enc, tok, id_to_rank, dev)
    print(
        f"dev: {stats['texts']} texts round-trip exactly; ids identical to HF tokenizers on "
        f"{stats['identical_to_hf']:.2%}; {stats['chars_per_token']:.3f} characters per token"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
