"""Evaluation figures for any classifier: per-class precision/recall/F1, confusion matrix,
one-vs-rest ROC and AUC, expected calibration error with reliability-diagram data, balanced
accuracy, and the ICBHI 2017 challenge sensitivity, specificity and score. torch-free.

Inputs are ``y_true`` (n,) integer class indices and ``probabilities`` (n, classes), rows summing
to 1, in the order of ``labels``. :func:`classification_report` returns one JSON-able dict with
everything; ``evaluation_plots`` draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts, rows = true class, columns = predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return cm


def per_class_scores(cm: np.ndarray, labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of each class from a confusion matrix."""
    out = {}
    for i, label in enumerate(labels):
        tp = float(cm[i, i])
        predicted, actual = float(cm[:, i].sum()), float(cm[i, :].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"precision": precision, "recall": recall, "f1": f1, "support": int(actual)}
    return out


def balanced_accuracy(cm: np.ndarray) -> float:
    """Mean recall over the classes present."""
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present])) if present.any() else 0.0


def binary_auc(scores, positive) -> float | None:
    """ROC AUC of ``scores`` for the boolean ``positive``; None if one side is empty."""
    from sklearn.metrics import roc_auc_score

    positive = np.asarray(positive, dtype=bool)
    if positive.all() or not positive.any():
        return None
    return float(roc_auc_score(positive, np.asarray(scores, dtype=float)))


def roc_one_vs_rest(y_true, probabilities: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Per class: false/true positive rates and AUC (None when a class is absent or alone)."""
    from sklearn.metrics import roc_curve

    y_true = np.asarray(y_true, dtype=int)
    curves = {}
    for i, label in enumerate(labels):
        positive = y_true == i
        auc = binary_auc(probabilities[:, i], positive)
        if auc is None:
            curves[label] = {"auc": None, "fpr": [], "tpr": []}
            continue
        fpr, tpr, _ = roc_curve(positive, probabilities[:, i])
        curves[label] = {"auc": auc, "fpr": fpr.tolist(), "tpr": tpr.tolist()}
    aucs = [c["auc"] for c in curves.values() if c["auc"] is not None]
    return {"per_class": curves, "macro_auc": float(np.mean(aucs)) if aucs else None}


def calibration(y_true, probabilities: np.ndarray, n_bins: int = 10) -> dict[str, Any]:
    """Expected calibration error of the top label (Guo et al. 2017) and reliability bins.

    Bins split confidence [0, 1] evenly; ECE = sum over bins of (count / n) * |accuracy -
    mean confidence|. Empty bins have None for accuracy and confidence.
    """
    y_true = np.asarray(y_true, dtype=int)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        inside = which == b
        count = int(inside.sum())
        acc = float(correct[inside].mean()) if count else None
        conf = float(confidence[inside].mean()) if count else None
        if count:
            ece += count / max(len(y_true), 1) * abs(acc - conf)
        bins.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": count,
                     "accuracy": acc, "confidence": conf})  # fmt: skip
    return {"ece": float(ece), "bins": bins}


def icbhi_scores(y_true, y_pred, normal_index: int = 0) -> dict[str, float | None]:
    """ICBHI 2017 challenge figures (Rocha et al. 2019).

    Se = abnormal cycles classified as exactly their class / abnormal cycles;
    Sp = normal cycles classified normal / normal cycles; score = (Se + Sp) / 2.
    """
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    normal = y_true == normal_index
    abnormal = ~normal
    se = float((y_pred[abnormal] == y_true[abnormal]).mean()) if abnormal.any() else None
    sp = float((y_pred[normal] == normal_index).mean()) if normal.any() else None
    parts = [v for v in (se, sp) if v is not None]
    score = float(np.mean(parts)) if len(parts) == 2 else None
    return {"sensitivity": se, "specificity": sp, "score": score}


def classification_report(y_true, probabilities, labels: Sequence[str],
                          icbhi_normal_label: str | None = None, n_bins: int = 10) -> dict[str, Any]:  # fmt: skip
    """Every figure above in one JSON-able dict (``icbhi`` only when a normal label is given)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=int)
    y_pred = probabilities.argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred, len(labels))
    per_class = per_class_scores(cm, labels)
    present = [s for s in per_class.values() if s["support"] > 0]
    report: dict[str, Any] = {
        "labels": list(labels),
        "n": int(y_true.size),
        "accuracy": float((y_pred == y_true).mean()) if y_true.size else 0.0,
        "balanced_accuracy": balanced_accuracy(cm),
        "macro_f1": float(np.mean([s["f1"] for s in present])) if present else 0.0,
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
        "roc": roc_one_vs_rest(y_true, probabilities, labels),
        "calibration": calibration(y_true, probabilities, n_bins),
    }
    if icbhi_normal_label is not None and icbhi_normal_label in labels:
        report["icbhi"] = icbhi_scores(y_true, y_pred, list(labels).index(icbhi_normal_label))
    return report


def headline(report: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a card or a log line shows (rounded)."""
    out = {
        "n": report["n"],
        "accuracy": round(report["accuracy"], 4),
        "balanced_accuracy": round(report["balanced_accuracy"], 4),
        "macro_f1": round(report["macro_f1"], 4),
        "macro_auc": None if report["roc"]["macro_auc"] is None else round(report["roc"]["macro_auc"], 4),
        "ece": round(report["calibration"]["ece"], 4),
    }
    if "icbhi" in report:
        out.update({f"icbhi_{k}": (None if v is None else round(v, 4))
                    for k, v in report["icbhi"].items()})  # fmt: skip
    return out
