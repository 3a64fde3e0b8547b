"""An evaluation's figures on screen: what ``stethoscan evaluate`` writes, viewable in the app.

Reads a folder with ``metrics.json`` (and ``confusion_matrix.png``, ``roc.png``,
``reliability.png``) or one section of a package's own ``metrics.json`` (e.g. the held-out test
with ``test_*.png``). Shows the headline figures (accuracy, balanced accuracy, macro F1, macro
AUC, expected calibration error; ICBHI sensitivity, specificity and score; wheeze and crackle
AUC), a per-class table (precision, recall, F1, support, AUC) and the plots. Nothing is
computed here: the figures are the ones the evaluator wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stethoscan.core.errors import ValidationError

PLOTS = ("confusion_matrix.png", "roc.png", "reliability.png")
COLUMNS = ("Class", "Precision", "Recall", "F1", "Support", "AUC")
PLOT_WIDTH = 330


def read_evaluation(folder: Path) -> dict[str, Any]:
    """``metrics.json`` of an evaluation folder; ValidationError with what to do otherwise."""
    path = Path(folder) / "metrics.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"{folder} holds no metrics.json: choose a folder written by "
                              "'stethoscan evaluate' or by Evaluate in this app.") from None  # fmt: skip
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path} could not be read ({exc}); run the evaluation again.") from None
    if not isinstance(report, dict) or "per_class" not in report:
        raise ValidationError(f"{path} is not an evaluation report (no per-class figures).")
    return report


def _number(value: Any, digits: int = 3) -> str:
    return "n/a" if not isinstance(value, int | float) else f"{value:.{digits}f}"


def headline_items(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, value) pairs shown above the table, in the evaluator's own figures."""
    items = [("Cases", str(report.get("n", "?"))), ("Accuracy", _number(report.get("accuracy"))),
             ("Balanced accuracy", _number(report.get("balanced_accuracy"))),
             ("Macro F1", _number(report.get("macro_f1"))),
             ("Macro AUC", _number((report.get("roc") or {}).get("macro_auc"))),
             ("Calibration error (ECE)", _number((report.get("calibration") or {}).get("ece")))]  # fmt: skip
    icbhi = report.get("icbhi")
    if isinstance(icbhi, dict):
        items += [("ICBHI sensitivity", _number(icbhi.get("sensitivity"))),
                  ("ICBHI specificity", _number(icbhi.get("specificity"))),
                  ("ICBHI score", _number(icbhi.get("score")))]  # fmt: skip
    for name, figures in (report.get("detection") or {}).items():
        auc = figures.get("auc") if isinstance(figures, dict) else None
        # not the per-class AUC of the table: a cycle with both sounds counts as a positive too
        items.append((f"{name.capitalize()} detection AUC ({name} or both)", _number(auc) if auc is not None
                      else f"n/a ({figures.get('positives', 0)} {name} cases)"))  # fmt: skip
    return items


def data_of(report: dict[str, Any]) -> str:
    """What the evaluation ran on, as its report says (some evaluators do not say)."""
    data = report.get("data") or ("synthetic data" if report.get("synthetic") else "")
    return str(data) if data else "data not named in metrics.json"


class EvaluationView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluationView")
        self.title = QLabel("No evaluation shown yet.")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figures = QLabel("")
        self.figures.setWordWrap(True)
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.plots = [QLabel() for _ in PLOTS]
        plots = QHBoxLayout()
        for label in self.plots:
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            plots.addWidget(label)
        self.left_out = QLabel("")
        self.left_out.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.title, self.figures, self.table):
            layout.addWidget(widget)
        layout.addLayout(plots, 1)
        layout.addWidget(self.left_out)

    def clear(self, message: str = "No evaluation shown yet.") -> None:
        """Show nothing (while an evaluation runs, so a failure is not read beside old figures)."""
        self.title.setText(message)
        self.figures.clear()
        self.table.setRowCount(0)
        for label in self.plots:
            label.setPixmap(QPixmap())
            label.clear()
        self.left_out.clear()

    def show_folder(self, folder: Path, data: str | None = None) -> dict[str, Any]:
        """Show an evaluation folder; returns its report (ValidationError when it is none).
        ``data`` names what it ran on when the report does not (the dialog's own runs)."""
        folder = Path(folder)
        report = read_evaluation(folder)
        model = report.get("model")
        name = f"{model.get('name')} {model.get('version', '')}" if isinstance(model, dict) else \
            f"{model or 'model'} {report.get('version', '')}"
        data = report.get("data") or data or data_of(report)
        self.show_report(report, {p: folder / p for p in PLOTS},
                         f"{name.strip()} on {data} · {folder}")  # fmt: skip
        return report

    def show_report(self, report: dict[str, Any], plots: dict[str, Path], title: str) -> None:
        """Show one classification report with its plot files (missing plots are said)."""
        disclaimer = report.get("disclaimer") or "Not for diagnostic use"
        self.title.setText(f"<b>{title}</b><br><span style='color:#ff9b8f'>{disclaimer}.</span>")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setText(" &nbsp;·&nbsp; ".join(f"{k} <b>{v}</b>" for k, v in headline_items(report)))
        per_class = report.get("per_class") or {}
        aucs = ((report.get("roc") or {}).get("per_class")) or {}
        self.table.setRowCount(len(per_class))
        for row, (label, f) in enumerate(per_class.items()):
            auc = (aucs.get(label) or {}).get("auc")
            cells = (label, _number(f.get("precision")), _number(f.get("recall")), _number(f.get("f1")),
                     str(f.get("support", "")), _number(auc))  # fmt: skip
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self._fit_table_to_rows()
        for label, name in zip(self.plots, PLOTS, strict=True):
            pixmap = QPixmap(str(plots.get(name, ""))) if plots.get(name) else QPixmap()
            if pixmap.isNull():
                label.setPixmap(QPixmap())
                label.setText(f"({name} is missing)")
            else:
                label.setPixmap(pixmap.scaledToWidth(PLOT_WIDTH, Qt.TransformationMode.SmoothTransformation))
        skipped = report.get("skipped") or []
        self.left_out.setText(f"Left out ({len(skipped)}): " + "; ".join(map(str, skipped[:3]))
                              + (" …" if len(skipped) > 3 else "") if skipped else "")  # fmt: skip
        self.left_out.setToolTip("\n".join(map(str, skipped)))


    def _fit_table_to_rows(self) -> None:
        """Every class row visible, whatever the window's height (the dialog scrolls instead)."""
        table = self.table
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        header = table.horizontalHeader()
        table.setFixedHeight(max(header.height(), header.sizeHint().height()) + rows + 2 * table.frameWidth() + 2)


def package_sections(package_dir: Path) -> dict[str, tuple[dict[str, Any], dict[str, Path]]]:
    """The classification reports a package's own ``metrics.json`` holds, with their plots:
    ``{"held-out test": (report, plots), "real recordings": ...}``; empty when none."""
    try:
        data = json.loads((Path(package_dir) / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    names = {"held_out_test": ("held-out test", "test_"), "real_sample": ("real recordings", "real_")}
    out = {}
    for key, (title, prefix) in names.items():
        report = data.get(key) if isinstance(data, dict) else None
        if isinstance(report, dict) and "per_class" in report:
            out[title] = (report, {p: Path(package_dir) / f"{prefix}{p}" for p in PLOTS})
    return out
