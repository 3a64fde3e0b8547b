"""Evaluation figures against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.training import metrics
from stethoscan.training.evaluation_plots import write_evaluation_plots

LABELS = ["normal", "crackle", "wheeze", "both"]


def one_hot(pred, n=4, confidence=0.7):
    probs = np.full((len(pred), n), (1 - confidence) / (n - 1))
    probs[np.arange(len(pred)), pred] = confidence
    return probs


def test_confusion_matrix_and_per_class_scores():
    y_true = [0, 0, 0, 1, 1, 2, 3, 3]
    y_pred = [0, 0, 1, 1, 0, 2, 2, 3]
    cm = metrics.confusion_matrix(y_true, y_pred, 4)
    assert cm.tolist() == [[2, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]]
    scores = metrics.per_class_scores(cm, LABELS)
    assert scores["normal"]["precision"] == pytest.approx(2 / 3)
    assert scores["normal"]["recall"] == pytest.approx(2 / 3)
    assert scores["wheeze"]["precision"] == pytest.approx(0.5)
    assert scores["wheeze"]["f1"] == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert scores["both"]["support"] == 2
    assert metrics.balanced_accuracy(cm) == pytest.approx(np.mean([2 / 3, 1 / 2, 1, 1 / 2]))


def test_icbhi_score_counts_exact_abnormal_class():
    y_true = [0, 0, 0, 0, 1, 2, 3, 3]
    y_pred = [0, 0, 0, 1, 1, 3, 3, 0]  # wheeze called "both" is wrong in the ICBHI score
    icbhi = metrics.icbhi_scores(y_true, y_pred)
    assert icbhi["specificity"] == pytest.approx(3 / 4)
    assert icbhi["sensitivity"] == pytest.approx(2 / 4)
    assert icbhi["score"] == pytest.approx(0.625)
    assert metrics.icbhi_scores([1, 2], [1, 1])["specificity"] is None


def test_auc_perfect_reversed_and_undefined():
    assert metrics.binary_auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert metrics.binary_auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert metrics.binary_auc([0.1, 0.2], [1, 1]) is None
    report = metrics.classification_report([0, 1, 1, 0], one_hot([0, 1, 1, 0])[:, :2] /
                                           one_hot([0, 1, 1, 0])[:, :2].sum(1, keepdims=True),
                                           ["a", "b"])  # fmt: skip
    assert report["roc"]["per_class"]["a"]["auc"] == 1.0
    assert report["roc"]["macro_auc"] == 1.0


def test_expected_calibration_error():
    # confidence 0.7 everywhere; 7 of 10 right -> perfectly calibrated
    y_true = np.array([0] * 10)
    pred = np.array([0] * 7 + [1] * 3)
    assert metrics.calibration(y_true, one_hot(pred))["ece"] == pytest.approx(0.0, abs=1e-9)
    # all wrong at confidence 0.9 -> ECE 0.9
    cal = metrics.calibration(np.zeros(5, int), one_hot(np.ones(5, int), confidence=0.9))
    assert cal["ece"] == pytest.approx(0.9)
    assert sum(b["count"] for b in cal["bins"]) == 5


def test_report_and_plots(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 80)
    probs = rng.dirichlet(np.ones(4), 80)
    probs[np.arange(80), y] += 1.0
    probs /= probs.sum(1, keepdims=True)
    report = metrics.classification_report(y, probs, LABELS, icbhi_normal_label="normal")
    assert report["accuracy"] > 0.5
    assert set(report["icbhi"]) == {"sensitivity", "specificity", "score"}
    head = metrics.headline(report)
    assert head["n"] == 80 and "icbhi_score" in head and "ece" in head
    paths = write_evaluation_plots(report, tmp_path)
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reliability_plot_shows_the_gap_even_where_accuracy_is_zero():
    """A model that is always wrong but confident: the accuracy bars are empty, and the hatched
    gap bars reach each bin's mean confidence (the plot was blank before)."""
    import numpy as np

    from stethoscan.training.evaluation_plots import reliability_figure
    from stethoscan.training.metrics import classification_report

    probs = np.array([[0.1, 0.9], [0.3, 0.7], [0.15, 0.85]])
    report = classification_report(np.array([0, 0, 0]), probs, ["a", "b"])
    ax = reliability_figure(report).axes[0]
    gaps = [p for p in ax.patches if p.get_hatch() == "//" and p.get_height() > 0]
    tops = sorted(round(p.get_y() + p.get_height(), 3) for p in gaps)
    expected = sorted(round(b["confidence"], 3) for b in report["calibration"]["bins"] if b["count"])
    assert tops == expected and all(p.get_y() == 0.0 for p in gaps)
