"""PNG figures of a :func:`stethoscan.training.metrics.classification_report` (matplotlib, Agg).

``write_evaluation_plots(report, out_dir)`` writes ``confusion_matrix.png``, ``roc.png`` and
``reliability.png`` and returns their paths. Figures use matplotlib's object API (no pyplot
state), so they are safe off the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _figure(size=(5.0, 4.2)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110)
    FigureCanvasAgg(fig)
    return fig


def confusion_matrix_figure(report: dict[str, Any], title: str = "Confusion matrix"):
    cm = np.asarray(report["confusion_matrix"], dtype=float)
    labels = report["labels"]
    fig = _figure()
    ax = fig.add_subplot(111)
    rows = np.maximum(cm.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(cm / rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            share = cm[i, j] / rows[i, 0]
            ax.text(j, i, f"{int(cm[i, j])}\n{share:.0%}", ha="center", va="center",
                    color="white" if share > 0.5 else "black", fontsize=8)  # fmt: skip
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of true class")
    fig.tight_layout()
    return fig


def roc_figure(report: dict[str, Any], title: str = "ROC (one vs rest)"):
    fig = _figure()
    ax = fig.add_subplot(111)
    for label, curve in report["roc"]["per_class"].items():
        if curve["auc"] is None:
            continue
        ax.plot(curve["fpr"], curve["tpr"], label=f"{label} (AUC {curve['auc']:.2f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def reliability_figure(report: dict[str, Any], title: str = "Reliability"):
    bins = report["calibration"]["bins"]
    fig = _figure()
    ax = fig.add_subplot(111)
    centres = [0.5 * (b["low"] + b["high"]) for b in bins]
    accuracy = [b["accuracy"] if b["accuracy"] is not None else 0.0 for b in bins]
    confidence = [b["confidence"] if b["confidence"] is not None else 0.0 for b in bins]
    width = bins[0]["high"] - bins[0]["low"] if bins else 0.1
    ax.bar(centres, accuracy, width=width * 0.9, color="#4a7ab5", label="accuracy")
    # the gap to the bin's mean confidence (Guo et al. 2017), so a bin with accuracy 0 still shows
    gaps = [c - a if b["accuracy"] is not None else 0.0 for a, c, b in zip(accuracy, confidence, bins, strict=True)]
    ax.bar(centres, gaps, bottom=accuracy, width=width * 0.9, color="none", edgecolor="#d9534f",
           hatch="//", label="gap to mean confidence")  # fmt: skip
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    ax.set_xlabel("confidence of the top label")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(f"{title} (ECE {report['calibration']['ece']:.3f})")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def write_evaluation_plots(report: dict[str, Any], out_dir: Path, prefix: str = "",
                           title_suffix: str = "") -> dict[str, Path]:  # fmt: skip
    """Write the three PNGs into ``out_dir``; returns name -> path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = f" - {title_suffix}" if title_suffix else ""
    figures = {
        "confusion_matrix": confusion_matrix_figure(report, "Confusion matrix" + suffix),
        "roc": roc_figure(report, "ROC (one vs rest)" + suffix),
        "reliability": reliability_figure(report, "Reliability" + suffix),
    }
    paths = {}
    for name, fig in figures.items():
        path = out_dir / f"{prefix}{name}.png"
        fig.savefig(path)
        paths[name] = path
    return paths
