"""Tokenizer: a `tiktoken.Encoding` built from a ranks file shipped inside the package, plus specials.

Encodings live in `infinisum/data/encodings/<name>.tiktoken` (the standard tiktoken ranks format:
one `base64(token) rank` pair per line). Nothing is fetched at run time. Every shipped encoding
uses the GPT-2 split pattern; the model's special tokens are appended after the ranks:

    id = n_ranks + index into SPECIAL_TOKENS

so `<|pad|>` of the GPT-2 encoding (50256 ranks) is 50256, `<|bos|>` 50257, and so on.

User text is always encoded as ordinary text: a book that contains the string "<|eos|>" gets
the tokens for those characters, never the special id.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Iterable, Sequence
from pathlib import Path

import tiktoken

from infinisum.errors import ModelError

#: The model's special tokens, in id order after the ranks.
SPECIAL_TOKENS = ("<|pad|>", "<|bos|>", "<|eos|>", "<|mask|>", "<|sep|>")

#: The GPT-2 pre-tokenization pattern (tiktoken's `r50k_base` / `gpt2` pat_str).
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

#: Folder of the shipped `.tiktoken` ranks files.
ENCODINGS_DIR = Path(__file__).resolve().parent / "data" / "encodings"


def list_encodings() -> list[str]:
    """Names of the encodings shipped with the package (sorted)."""
    return sorted(p.stem for p in ENCODINGS_DIR.glob("*.tiktoken"))


class Tokenizer:
    """A tiktoken encoding plus infinisum's special tokens.

    Attributes:
        name: the encoding's name (file stem of its ranks file).
        encoding: the `tiktoken.Encoding`, specials included.
        pad_id, bos_id, eos_id, mask_id, sep_id: ids of the special tokens.
        vocab_size: number of ranks + number of specials (the model's embedding size).
    """

    def __init__(self, name: str, mergeable_ranks: dict[bytes, int]) -> None:
        if not mergeable_ranks:
            raise ModelError(f"encoding {name!r} has no tokens; rebuild its .tiktoken file")
        n_ranks = max(mergeable_ranks.values()) + 1
        if n_ranks != len(mergeable_ranks):
            raise ModelError(
                f"encoding {name!r} has ranks with gaps ({len(mergeable_ranks)} tokens, highest rank "
                f"{n_ranks - 1}); ranks must be 0..n-1 without gaps — rebuild its .tiktoken file"
            )
        specials = {tok: n_ranks + i for i, tok in enumerate(SPECIAL_TOKENS)}
        self.name = name
        self.n_ranks = n_ranks
        self.encoding = tiktoken.Encoding(
            name=f"infinisum-{name}",
            pat_str=GPT2_PATTERN,
            mergeable_ranks=mergeable_ranks,
            special_tokens=specials,
        )
        self.pad_id, self.bos_id, self.eos_id, self.mask_id, self.sep_id = (specials[t] for t in SPECIAL_TOKENS)
        self.special_ids = frozenset(specials.values())
        self.vocab_size = n_ranks + len(SPECIAL_TOKENS)

    def __repr__(self) -> str:
        return f"Tokenizer(name={self.name!r}, vocab_size={self.vocab_size})"

    def encode(self, text: str) -> list[int]:
        """Encode ordinary text; special-token strings inside it are encoded as plain characters."""
        return self.encoding.encode_ordinary(text)

    def encode_batch(self, texts: Sequence[str], num_threads: int = 2) -> list[list[int]]:
        """Encode several texts (ordinary text, like `encode`)."""
        return self.encoding.encode_ordinary_batch(list(texts), num_threads=num_threads)

    def decode(self, ids: Iterable[int]) -> str:
        """Decode ids to text, dropping special ids (pad, bos, eos, ...). Invalid UTF-8 becomes U+FFFD."""
        keep = [int(i) for i in ids if int(i) not in self.special_ids]
        try:
            return self.encoding.decode(keep, errors="replace")
        except KeyError as exc:  # an id outside the vocabulary
            raise ModelError(
                f"token id {exc.args[0]} is outside the vocabulary of {self.name!r} "
                f"(size {self.vocab_size}); was the text made by another tokenizer?"
            ) from None


@functools.lru_cache(maxsize=8)
def load_tokenizer(name_or_path: str) -> Tokenizer:
    """Load a shipped encoding by name (e.g. "gpt2") or a `.tiktoken` ranks file by path."""
    text = str(name_or_path)
    path = Path(text)
    if text.endswith(".tiktoken") or path.is_file():
        name = path.stem
    else:
        name = text
        path = ENCODINGS_DIR / f"{text}.tiktoken"
        if not path.is_file():
            shipped = ", ".join(list_encodings()) or "none"
            raise ModelError(
                f"unknown encoding {text!r}; shipped encodings: {shipped} (or pass the path of a .tiktoken ranks file)"
            )
    if not path.is_file():
        raise ModelError(
            f"encoding file {path} does not exist; pass a .tiktoken ranks file or one of: {', '.join(list_encodings())}"
        )
    return Tokenizer(name, read_ranks(path))


def read_ranks(path: Path) -> dict[bytes, int]:
    """Parse a `.tiktoken` ranks file (same format as `tiktoken.load.load_tiktoken_bpe`).

    Parsed here rather than with tiktoken's loader because that one copies every file into a
    cache keyed by its *path*, so a retrained file at the same path would load stale ranks.
    """
    ranks: dict[bytes, int] = {}
    with open(path, "rb") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                token, rank = line.split()
                ranks[base64.b64decode(token, validate=True)] = int(rank)
            except (ValueError, binascii.Error):
                raise ModelError(
                    f"cannot read encoding file {path}: line {line_no} is not 'base64-token rank'; rebuild the file"
                ) from None
    return ranks
