"""The "Skipped files" dialog: every file that was not loaded, with the reason."""

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


class SkippedFilesView(QDialog):
    def __init__(self, skipped: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("skippedFilesView")
        self.setWindowTitle("Skipped files")
        self.skipped = list(skipped)
        intro = QLabel(
            f"{len(self.skipped)} file(s) were not loaded. Everything else opened normally."
            if self.skipped else "No files were skipped."
        )
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
            path_item = QTableWidgetItem(str(item.path))
            path_item.setToolTip(str(item.path))
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
