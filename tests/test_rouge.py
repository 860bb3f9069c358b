"""BookSum-style ROUGE: equal to rouge-score's own numbers, Overall as in the paper, seeded bootstrap."""

import math

import pytest
from rouge_score import rouge_scorer

from infinisum import rouge

PAPER_ROWS = [  # DESIGN.md section 4, R-L -> Overall
    ((36.4, 7.6, 15.3), 16.2),
    ((36.8, 8.3, 15.7), 16.9),
    ((38.6, 7.2, 15.6), 16.3),
    ((37.9, 8.2, 16.3), 17.2),
    ((37.9, 8.7, 17.6), 18.0),
    ((40.0, 8.8, 17.9), 18.5),
]


@pytest.mark.parametrize("row, expected", PAPER_ROWS)
def test_overall_reproduces_the_papers_column(row, expected):
    assert round(rouge.overall(*row), 1) == expected


def test_overall_is_zero_when_any_measure_is_zero():
    assert rouge.overall(40.0, 0.0, 20.0) == 0.0


def test_golden_value_from_rouge_scores_own_tests():
    # rouge-score's test: "testing one two" vs "testing" -> precision 1, recall 1/3, F 1/2
    score = rouge.score_pair("testing", "testing one two")
    assert score.rouge1 == pytest.approx(50.0)


PAIRS = [
    (
        "The cat sat on the mat. It was very happy there.",
        "A cat was sitting on the mat. The cat looked happy. Then it slept.",
        "The cat sat on the mat.\nIt was very happy there.",
        "A cat was sitting on the mat.\nThe cat looked happy.\nThen it slept.",
    ),
    (
        "Dr. Watson meets Holmes. They share rooms in Baker Street! Mysteries follow?",
        "Holmes and Dr. Watson share rooms at Baker Street. Together they solve mysteries.",
        "Dr. Watson meets Holmes.\nThey share rooms in Baker Street!\nMysteries follow?",
        "Holmes and Dr. Watson share rooms at Baker Street.\nTogether they solve mysteries.",
    ),
]


@pytest.mark.parametrize("prediction, reference, prediction_lines, reference_lines", PAIRS)
def test_equals_rouge_score_with_porter_stemmer_and_one_sentence_per_line(
    prediction, reference, prediction_lines, reference_lines
):
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    expected = scorer.score(reference_lines, prediction_lines)  # sentences split by hand
    got = rouge.score_pair(prediction, reference)
    assert got.rouge1 == pytest.approx(100 * expected["rouge1"].fmeasure)
    assert got.rouge2 == pytest.approx(100 * expected["rouge2"].fmeasure)
    assert got.rougeL == pytest.approx(100 * expected["rougeLsum"].fmeasure)


def test_rouge_l_is_summary_level_not_plain_lcs():
    # Swapping sentence order hurts plain rougeL but not sentence-level rougeLsum.
    reference = "Alpha beta gamma delta. Epsilon zeta eta theta."
    swapped = "Epsilon zeta eta theta. Alpha beta gamma delta."
    assert rouge.score_pair(swapped, reference).rougeL == pytest.approx(100.0)
    plain = rouge_scorer.RougeScorer(["rougeL"]).score(reference, swapped)["rougeL"].fmeasure
    assert plain < 0.6


def test_sentence_splitting_keeps_abbreviations_and_breaks_on_blank_lines():
    assert rouge.split_sentences("Dr. Smith went home.\nHe was tired.\n\nChapter One\n\nIt rained") == [
        "Dr. Smith went home.",
        "He was tired.",
        "Chapter One",
        "It rained",
    ]
    assert rouge.split_sentences("  \n ") == []


def test_multi_reference_takes_the_best_per_measure():
    prediction = "the dog barked at the mailman all morning"
    refs = ["the dog barked at the mailman", "a cat slept all morning long"]
    each = [rouge.score_pair(prediction, r) for r in refs]
    best = rouge.score_pair(prediction, refs)
    assert best.rouge1 == pytest.approx(max(s.rouge1 for s in each))
    assert best.rouge2 == pytest.approx(max(s.rouge2 for s in each))
    assert best.rougeL == pytest.approx(max(s.rougeL for s in each))


def test_empty_prediction_scores_zero():
    assert rouge.score_pair("", "something to say").as_dict() == {
        "rouge1": 0.0,
        "rouge2": 0.0,
        "rougeL": 0.0,
        "overall": 0.0,
    }


def _scores(values):
    return [rouge.PairScore(a, b, c) for a, b, c in values]


def test_bootstrap_is_seeded_and_brackets_the_mean():
    docs = _scores([(30, 5, 12), (40, 9, 18), (35, 7, 15), (50, 12, 22), (20, 3, 9)])
    first = rouge.aggregate(docs, n_resamples=500, seed=3)
    again = rouge.aggregate(docs, n_resamples=500, seed=3)
    other = rouge.aggregate(docs, n_resamples=500, seed=4)
    assert first.aggregate == again.aggregate
    assert first.aggregate != other.aggregate
    for _i, key in enumerate(rouge.MEASURES):
        agg = first.aggregate[key]
        mean = sum(d.__dict__[key] for d in docs) / len(docs)
        assert agg.low <= agg.f <= agg.high
        assert agg.low < mean < agg.high
        assert abs(agg.f - mean) < 2.0
    o = first.aggregate["overall"]
    assert o.f == pytest.approx(rouge.overall(*(first.aggregate[k].f for k in rouge.MEASURES)))
    assert o.low <= o.f <= o.high


def test_single_document_has_a_degenerate_interval():
    report = rouge.score_pairs(["the cat sat on the mat"], ["the cat sat on a mat"])
    for key in rouge.MEASURES:
        agg = report.aggregate[key]
        assert agg.low == agg.f == agg.high == pytest.approx(report.documents[0].__dict__[key])


def test_score_pairs_checks_lengths():
    with pytest.raises(ValueError):
        rouge.score_pairs(["a"], ["a", "b"])


def test_paired_bootstrap():
    a = _scores([(40, 9, 18), (42, 10, 19), (38, 8, 17), (45, 11, 20)])
    b = _scores([(30, 5, 12), (33, 6, 13), (29, 4, 11), (35, 7, 14)])
    same = rouge.paired_bootstrap(a, a, n_resamples=200)
    assert same.difference == 0.0 and same.p_value == 1.0
    better = rouge.paired_bootstrap(a, b, system_a="a", system_b="b", n_resamples=200)
    assert better.difference == pytest.approx(rouge.overall(41.25, 9.5, 18.5) - rouge.overall(31.75, 5.5, 12.5))
    assert 0 < better.low <= better.high and better.p_value < 0.01
    assert not math.isnan(better.p_value)
    with pytest.raises(ValueError):
        rouge.paired_bootstrap(a, b[:2])
