"""The marker list beside the plots: add from the selection, relabel, retime, delete, accept.

Edits go straight to the :class:`MarkerLayer`; the review view saves the layer's markers to the
patient database whenever a saved marker changes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stethoscan.gui.studio.markers import MARKER_LABELS, MarkerLayer, ReviewMarker
from stethoscan.gui.studio.review_plot_style import label_colour

COLUMNS = ("Start (s)", "End (s)", "Label", "Source")


class _LabelDelegate(QStyledItemDelegate):
    """An editable combo box of the usual labels for the Label column."""

    def createEditor(self, parent, option, index):  # noqa: N802 (Qt API)
        combo = QComboBox(parent)
        combo.setEditable(True)
        combo.addItems(MARKER_LABELS)
        return combo

    def setEditorData(self, editor, index):  # noqa: N802
        editor.setCurrentText(str(index.data() or ""))

    def setModelData(self, editor, model, index):  # noqa: N802
        model.setData(index, editor.currentText().strip())


class MarkerPanel(QWidget):
    add_requested = Signal(str)  # label: add a marker over the current selection

    def __init__(self, layer: MarkerLayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer = layer
        self._rows: list[ReviewMarker] = []
        self._filling = False
        self.label_combo = QComboBox()
        self.label_combo.setEditable(True)
        self.label_combo.addItems(MARKER_LABELS)
        self.label_combo.setToolTip("Label of the new marker; type any other word for a custom label")
        self.add_button = QPushButton("Add marker")
        self.add_button.setToolTip("Mark the selected time span with this label (M)")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(lambda: self.add_requested.emit(self.label_combo.currentText()))
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected markers (Del)")
        self.delete_button.clicked.connect(self.delete_selected)
        self.table = self._build_table()
        self.proposal_bar = self._build_proposal_bar()
        self.hint = QLabel("Drag on the waveform or spectrogram to select a span, choose a label and "
                           "press Add marker. Drag a marker's edges to adjust it. While listening, "
                           "press B at each breath you hear to mark its inspiration.")
        self.hint.setWordWrap(True)
        self.hint.setObjectName("browserSummary")
        adder = QHBoxLayout()
        adder.addWidget(QLabel("Label"))
        adder.addWidget(self.label_combo, 1)
        adder.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(adder)
        layout.addWidget(self.hint)
        layout.addWidget(self.proposal_bar)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        layout.addLayout(buttons)
        layer.changed.connect(self.refresh)
        self.refresh()

    def _build_table(self) -> QTableWidget:
        table = QTableWidget(0, len(COLUMNS))
        table.setHorizontalHeaderLabels(COLUMNS)
        table.verticalHeader().hide()
        table.setAlternatingRowColors(True)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                              | QAbstractItemView.EditTrigger.EditKeyPressed)
        table.setItemDelegateForColumn(2, _LabelDelegate(table))
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        table.itemChanged.connect(self._on_item_changed)
        table.itemSelectionChanged.connect(self._on_selection)
        return table

    def _build_proposal_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("warningsBanner")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 4, 8, 4)
        self.proposal_label = QLabel("")
        self.proposal_label.setWordWrap(True)
        self.accept_button = QPushButton("Accept")
        self.accept_button.setToolTip("Save the automatic segments as markers")
        self.accept_button.clicked.connect(self.layer.accept_proposals)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.layer.discard_proposals)
        row.addWidget(self.proposal_label, 1)
        row.addWidget(self.accept_button)
        row.addWidget(self.discard_button)
        bar.hide()
        return bar

    def set_selection_available(self, available: bool) -> None:
        self.add_button.setEnabled(available)

    def refresh(self) -> None:
        self._filling = True
        self._rows = list(self.layer.markers)
        self.table.setRowCount(len(self._rows))
        for row, marker in enumerate(self._rows):
            self._fill_row(row, marker)
        self._filling = False
        n = len(self.layer.proposals)
        self.proposal_bar.setVisible(n > 0)
        self.proposal_label.setText(
            f"{n} automatic segment{'s' if n != 1 else ''} proposed (dashed). Check and adjust "
            "them, then accept to save them as markers."
        )

    def _fill_row(self, row: int, marker: ReviewMarker) -> None:
        source = f"{marker.source} (proposed)" if marker.proposed else marker.source
        values = (f"{marker.start_s:.3f}", f"{marker.end_s:.3f}", marker.label, source)
        for col, text in enumerate(values):
            item = QTableWidgetItem(text)
            if col == 3:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if col in (0, 1):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if col == 2:
                item.setForeground(QBrush(label_colour(marker.label)))
            if marker.proposed:
                font = QFont()
                font.setItalic(True)
                item.setFont(font)
                if col != 2:
                    item.setForeground(QBrush(QColor("#9aa4ae")))
            self.table.setItem(row, col, item)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.row() >= len(self._rows):
            return
        marker = self._rows[item.row()]
        if item.column() == 2:
            self.layer.relabel(marker, item.text())
            self.refresh()
            return
        try:
            value = float(item.text().replace(",", "."))
        except ValueError:
            self.refresh()  # not a number: show the marker's times again
            return
        start, end = (value, marker.end_s) if item.column() == 0 else (marker.start_s, value)
        self.layer.set_times(marker, start, end)
        self.refresh()

    def selected_markers(self) -> list[ReviewMarker]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self._rows[r] for r in rows if r < len(self._rows)]

    def _on_selection(self) -> None:
        selected = self.selected_markers()
        self.layer.highlight(selected[0] if selected else None)

    def delete_selected(self) -> None:
        for marker in self.selected_markers():
            self.layer.remove(marker)
