"""Tests for the corpus builder's pure helpers (scripts/corpus_text.py, scripts/build_corpus.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from collections import Counter  # noqa: E402

import build_corpus  # noqa: E402
from corpus_text import (  # noqa: E402
    Example,
    cap_at_paragraph,
    chunk_paragraphs,
    rouge1_f,
    select_gap_sentences,
    split_dev,
    stable_hash,
)


def test_stable_hash_is_fixed_across_runs():
    # The first 8 bytes of sha256("abc") (FIPS 180-2 test vector), big-endian: a salted hash() would fail.
    assert stable_hash("abc") == 0xBA7816BF8F01CFEA


def _examples(n: int, source: str, kind: str = "pair") -> list[Example]:
    return [
        Example(id=f"{source}:{i}", source=source, kind=kind, document="d", summary="s", group=f"{source}:{i}")
        for i in range(n)
    ]


def test_split_dev_is_deterministic_stratified_and_keeps_groups_together():
    exs = _examples(500, "big") + _examples(5, "tiny")
    exs.append(Example(id="big-gsg:7", source="big", kind="gsg", document="d", summary="s", group="big:7"))
    train, dev = split_dev(exs, fraction=0.04)
    assert split_dev(list(reversed(exs)), fraction=0.04)[1] == list(reversed(dev))  # order-independent choice
    assert len(train) + len(dev) == len(exs)
    # 20 pairs by hash, plus big:7's pair if its hash did not pick it: its GSG stratum (one group) puts it in dev.
    assert {e.id for e in dev} >= {"big:7", "big-gsg:7"}
    assert sum(e.source == "big" and e.kind == "pair" for e in dev) in (20, 21)
    assert sum(e.source == "tiny" for e in dev) == 1  # every stratum is represented
    dev_groups = {e.group for e in dev}
    assert all(e.group not in dev_groups for e in train)  # a group never straddles the split


def test_gap_sentence_selection_on_a_hand_made_document():
    paragraphs = [
        "The cat sat on the mat in the warm kitchen. Rain fell on the distant hills all night long.",
        "The cat liked the mat and the warm kitchen. A train passed by at seven without stopping there.",
        "Later the cat left the mat and the kitchen. Nobody knows the colour of the old bicycle shed.",
    ]
    gsg = select_gap_sentences(paragraphs, n_gaps=2, min_words=3)
    assert gsg is not None
    # The cat/mat/kitchen sentences overlap the rest most; the first two of them are picked, in order.
    assert gsg.summary == "The cat sat on the mat in the warm kitchen. The cat liked the mat and the warm kitchen."
    assert gsg.chosen == ((0, 0), (1, 0))
    assert gsg.document.split("\n\n") == [
        "Rain fell on the distant hills all night long.",
        "A train passed by at seven without stopping there.",
        "Later the cat left the mat and the kitchen. Nobody knows the colour of the old bicycle shed.",
    ]
    assert select_gap_sentences(paragraphs[:1], n_gaps=2, min_words=3) is None  # too few sentences


def test_rouge1_f_matches_rouge_score_golden_value():
    # rouge-score's own example: "testing one two" vs "testing" -> P 1, R 1/3, F 1/2.
    assert rouge1_f(Counter(["testing"]), Counter(["testing", "one", "two"])) == pytest.approx(0.5)


def test_cap_and_chunk_respect_paragraph_boundaries():
    pars = ["a" * 40, "b" * 40, "c" * 40]
    assert cap_at_paragraph(pars, max_chars=85) == pars[:2]  # 40 + 2 + 40 = 82 fits, 124 does not
    assert cap_at_paragraph(["word " * 30], max_chars=50)[0].endswith("word")
    words = ["w " * 400] * 10  # ten 400-word paragraphs
    starts = [i % 5 == 0 for i in range(10)]  # chapters of five paragraphs (2,000 words)
    docs = chunk_paragraphs(words, starts, min_words=1500, target_words=3000)
    assert [len(d) for d in docs] == [5, 5]


def test_reserved_pages_are_excluded_by_owner_and_by_name():
    owners = {
        "/usr/share/man/man2/open.2.gz": "manpages-dev",
        "/usr/share/man/man7/regex.7.gz": "manpages",
        "/usr/share/man/man1/cp.1.gz": "coreutils",
    }
    reserved = build_corpus.reserved_page_names(owners)
    assert reserved == {"open.2.gz", "regex.7.gz"}
    assert build_corpus.is_reserved_page("/usr/share/man/man2/open.2.gz", "manpages-dev", reserved)
    assert not build_corpus.is_reserved_page("/usr/share/man/man1/cp.1.gz", "coreutils", reserved)
    # A copy of a reserved page shipped by another package is still held out.
    assert build_corpus.is_reserved_page("/usr/share/man/man7/regex.7.gz", "some-other-pkg", reserved)
    assert build_corpus.is_reserved_page("/usr/share/man/man1/x.1.gz", "python3.11-doc", reserved)
    assert build_corpus.RESERVED_PACKAGE_RE.match("python3-doc")
    assert not build_corpus.RESERVED_PACKAGE_RE.match("python3-docutils")


def test_parse_rendered_man_takes_name_line_as_summary_and_drops_it_from_body():
    rendered = (
        "CP(1)                 User Commands                CP(1)\n\n"
        "NAME\n       cp - copy files and\n       directories\n\n"
        "SYNOPSIS\n       cp [OPTION]... SOURCE DEST\n\n"
        "DESCRIPTION\n       Copy SOURCE to DEST, or multiple\n       SOURCE(s) to DIRECTORY.\n\n"
        "GNU coreutils 9.1            September 2022             CP(1)\n"
    )
    page = build_corpus.parse_rendered_man(rendered)
    assert page is not None
    assert page.description == "copy files and directories"
    assert page.paragraphs == [
        "SYNOPSIS",
        "cp [OPTION]... SOURCE DEST",
        "DESCRIPTION",
        "Copy SOURCE to DEST, or multiple SOURCE(s) to DIRECTORY.",
    ]
    assert build_corpus.parse_rendered_man("X(1)\n\nNAME\n       x\n\nfooter\n") is None


def test_debian_description_parsing():
    stanza = (
        "Package: foo\nDescription-md5: 0\nDescription-en: frobnicate widgets\n"
        " Foo frobnicates widgets\n quickly.\n .\n Features:\n  * one\n  * two\n\n"
    )
    assert list(build_corpus.parse_translation(stanza)) == [
        ("foo", "frobnicate widgets", ["Foo frobnicates widgets quickly.", "Features:\n* one\n* two"])
    ]


def test_reuters_title_case_follows_the_body():
    body = "Ohio Mattress Co said its first quarter profits may be lower at the U.S. unit."
    assert build_corpus.title_case_from_body("OHIO MATTRESS <OMT> MAY HAVE LOWER 1ST QTR NET", body) == (
        "Ohio Mattress may have lower 1st qtr net"
    )


def test_html_paragraphs_keep_prose_and_mark_sections():
    html = (
        "<html><body><div class='navheader'><p>Prev Next Home of the handbook manual</p></div>"
        "<h2>Installing</h2><p>The installer asks a few questions and then\n copies the system to the disk .</p>"
        "<div class='para'>Publican writes its paragraphs as divisions, and they count as prose too.</div>"
        "<pre>apt-get install foo bar baz qux quux corge</pre><p>Too short.</p>"
        "<h2>Booting</h2><p>After the first boot the system runs the configured services by itself.</p>"
        "</body></html>"
    )
    paragraphs, starts = build_corpus.html_paragraphs(html)
    assert paragraphs == [
        "The installer asks a few questions and then copies the system to the disk.",
        "Publican writes its paragraphs as divisions, and they count as prose too.",
        "After the first boot the system runs the configured services by itself.",
    ]
    assert starts == [True, False, True]
