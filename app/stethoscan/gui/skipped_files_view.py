"""The "Skipped files" dialog: every file that was not loaded, with the reason.

Files from a zip archive are shown as ``study.zip › DICOM/IM1`` (not their path in the archive
cache). The sentence on top is worded from the counts: when ``opened_series`` is given it says
whether anything opened at all; without it, it claims nothing about the other files.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def summary_sentence(n_skipped: int, opened_series: int | None) -> str:
    """The dialog's first line, true to the counts (``opened_series``: None when unknown)."""
    files = f"{n_skipped} file{'s' if n_skipped != 1 else ''}"
    if n_skipped == 0:
        return "No files were skipped."
    if opened_series is None:
        return f"{files} could not be loaded; the reason for each is below."
    if opened_series == 0:
        return (f"Nothing could be opened: none of the {files} holds a usable DICOM image. "
                "The reason for each is below.")
    series = f"{opened_series} series"
    return f"{series} opened; {files} could not be loaded. The reason for each is below."


class SkippedFilesView(QDialog):
    def __init__(self, skipped: list[Any], parent: QWidget | None = None,
                 opened_series: int | None = None) -> None:
        from stethoscan.imaging.dicom_sources import display_path

        super().__init__(parent)
        self.setObjectName("skippedFilesView")
        self.setWindowTitle("Skipped files")
        self.skipped = list(skipped)
        intro = QLabel(summary_sentence(len(self.skipped), opened_series))
        intro.setObjectName("skippedSummary")
        intro.setWordWrap(True)
        self.summary = intro
        self.table = QTableWidget(len(self.skipped), 2)
        self.table.setHorizontalHeaderLabels(["File", "Reason"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for row, item in enumerate(self.skipped):
            shown = display_path(item.path)
            path_item = QTableWidgetItem(shown)
            path_item.setToolTip(shown)
            reason_item = QTableWidgetItem(item.reason)
            reason_item.setToolTip(item.reason)
            self.table.setItem(row, 0, path_item)
            self.table.setItem(row, 1, reason_item)
        self.table.setColumnWidth(0, 360)
        self.table.resizeRowsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy list")
        copy.clicked.connect(self.copy_list)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(860, 420)

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text())
                for r in range(self.table.rowCount())]

    def copy_list(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(f"{p}\t{r}" for p, r in self.rows()))
