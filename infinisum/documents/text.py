"""Plain text and Markdown: decoding and lazy line streaming.

Encoding is decided from the first 64 KiB: a byte-order mark (UTF-8, UTF-16, UTF-32) wins;
then UTF-16 without BOM (NUL bytes in every other position); then strict UTF-8; then
Windows-1252 for mostly-ASCII text; then a legacy encoding guessed by charset-normalizer.
NUL bytes or a failed guess mean the file is binary, which is an error.
The rest of the file is decoded incrementally in 1 MiB
chunks, so memory does not grow with the file (a stray invalid byte further on becomes U+FFFD
rather than failing a long read).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from infinisum.errors import DocumentError

SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
#: A line longer than this is passed on in pieces (files without line breaks must stream too).
MAX_LINE_CHARS = 64 * 1024
#: What str.splitlines treats as a line end.
_LINE_BREAKS = tuple("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def detect_encoding(sample: bytes, source: str) -> tuple[str, int]:
    """(encoding, number of BOM bytes to skip) for a file starting with `sample`."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding, len(bom)
    if b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        # Mostly-ASCII UTF-16 without BOM: one of the two byte lanes is almost all NUL.
        if len(sample) >= 4 and odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le", 0
        if len(sample) >= 4 and even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be", 0
        raise DocumentError(
            f"{source} looks like a binary file, not text (it contains NUL bytes); "
            f"pass a .txt, .md, .pdf, .epub or .html document"
        )
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
        return "utf-8", 0
    except UnicodeDecodeError:
        pass
    # Mostly-ASCII text (English prose) in an 8-bit encoding is Windows-1252 far more often than
    # anything else, and a detector can mistake it for a neighbour (cp1250) on short samples.
    ascii_share = sum(1 for b in sample if b < 0x80) / len(sample)
    if ascii_share > 0.9:
        try:
            sample.decode("cp1252")
            return "cp1252", 0
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes  # imported lazily: only legacy files need it

    best = from_bytes(sample).best()
    if best is None or best.encoding is None:
        raise DocumentError(
            f"{source} is not readable text in any known encoding; convert it to UTF-8 "
            f"(e.g. iconv -f <encoding> -t utf-8) and try again"
        )
    if _looks_binary(str(best)):
        raise DocumentError(
            f"{source} looks like a binary file, not text; pass a .txt, .md, .pdf, .epub or .html document"
        )
    return best.encoding, 0


def _looks_binary(text: str) -> bool:
    """More than 2% control characters (other than whitespace) is not prose in any encoding."""
    if not text:
        return False
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 0x7F <= ord(ch) < 0xA0)
    return controls > 0.02 * len(text)


def iter_lines(stream: BinaryIO, source: str) -> Iterator[str]:
    """Decode a binary stream lazily into lines (without line endings)."""
    sample = stream.read(SAMPLE_BYTES)
    encoding, skip = detect_encoding(sample, source)
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    text = decoder.decode(sample[skip:], final=False)
    if _looks_binary(text[:20_000]):
        raise DocumentError(
            f"{source} looks like a binary file, not text; pass a .txt, .md, .pdf, .epub or .html document"
        )
    pending = ""
    while True:
        lines = (pending + text).splitlines(keepends=True)
        pending = ""
        # Keep an unfinished last line (or one ending in "\r" that may pair with "\n") for later,
        # unless it is already huge (a file without line breaks must still stream).
        if lines and (lines[-1].endswith("\r") or not lines[-1].endswith(_LINE_BREAKS)):
            if len(lines[-1]) < MAX_LINE_CHARS:
                pending = lines.pop()
        for line in lines:
            yield line.rstrip("".join(_LINE_BREAKS))
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            break
        text = decoder.decode(chunk, final=False)
    yield from (pending + decoder.decode(b"", final=True)).splitlines()
