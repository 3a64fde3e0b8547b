"""DICOM tag browser: the header of the shown slice as a searchable tree (read in a worker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stethoscan.core.errors import StethoscanError

_MAX_VALUE_CHARS = 200


@dataclass
class TagRow:
    tag: str  # "(0010,0010)"
    name: str
    vr: str
    value: str
    children: list[TagRow] = field(default_factory=list)


def header_rows(dataset: Any) -> list[TagRow]:
    """Rows for every element of a pydicom dataset (file meta first); sequences nest."""
    rows: list[TagRow] = []
    meta = getattr(dataset, "file_meta", None)
    for source in ([meta] if meta is not None else []) + [dataset]:
        for element in source:
            rows.append(_row(element))
    return rows


def _row(element: Any) -> TagRow:
    tag = f"({element.tag.group:04X},{element.tag.element:04X})"
    name = element.name if element.name else "Unknown"
    if element.VR == "SQ":
        children = [
            TagRow(f"Item {n + 1}", "", "", "", [_row(e) for e in item])
            for n, item in enumerate(element.value)
        ]
        return TagRow(tag, name, "SQ", f"{len(element.value)} item(s)", children)
    if element.tag == 0x7FE00010 or element.VR in ("OB", "OW", "OF", "OD", "OL", "UN"):
        length = len(element.value) if element.value is not None else 0
        return TagRow(tag, name, element.VR, f"<{length} bytes>")
    value = str(element.value)
    if len(value) > _MAX_VALUE_CHARS:
        value = value[:_MAX_VALUE_CHARS] + "…"
    return TagRow(tag, name, element.VR, value)


def read_header_rows(path: str, task: Any = None) -> list[TagRow]:
    """Read one file's header (no pixel data) and turn it into rows (runs in the io pool)."""
    from stethoscan.gui.viewer.imaging_bridge import read_header

    try:
        dataset = read_header(path)
    except (OSError, ValueError, EOFError) as exc:
        raise StethoscanError(f"The header of {path} cannot be read ({exc}).") from exc
    return header_rows(dataset)


class TagBrowser(QDialog):
    """A non-modal window; one per viewer, refreshed when the shown slice changes."""

    def __init__(self, viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent or viewer)
        self.setObjectName("tagBrowser")
        self.setWindowTitle("DICOM tags")
        self.viewer = viewer
        self.job: Any = None
        self.path = ""
        self.source = QLabel()
        self.source.setObjectName("tagSource")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search tag, name or value…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.apply_filter)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Tag", "Name", "VR", "Value"])
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.source)
        layout.addWidget(self.tree, 1)
        self.resize(760, 620)
        viewer.state.cursor_changed.connect(lambda *_: self.isVisible() and self.refresh())

    @classmethod
    def show_for(cls, viewer: Any) -> TagBrowser:
        browser = getattr(viewer, "_tag_browser", None)
        if browser is None:
            browser = viewer._tag_browser = cls(viewer)
        browser.refresh()
        browser.show()
        browser.raise_()
        return browser

    def refresh(self) -> None:
        instance = self.viewer.current_instance()
        if instance is None:
            self.source.setText("No DICOM file behind the shown slice.")
            self.tree.clear()
            return
        if instance.path == self.path:
            return
        self.path = instance.path
        frame = f", frame {instance.frame + 1}" if instance.frame is not None else ""
        self.source.setText(f"{instance.path}{frame}")
        if self.job is not None and self.job.is_running:
            self.job.cancel()
        self.job = self.viewer.context.workers.submit("Reading DICOM header", read_header_rows, instance.path)
        self.job.finished.connect(self._show_rows)
        self.job.failed.connect(lambda exc: self.source.setText(str(exc)))

    def _show_rows(self, rows: list[TagRow]) -> None:
        self.tree.clear()
        self.tree.addTopLevelItems([_item(row) for row in rows])
        for column in range(3):
            self.tree.resizeColumnToContents(column)
        self.apply_filter(self.search.text())

    def apply_filter(self, text: str) -> None:
        """Show rows whose tag, name or value contains ``text`` (and their parents)."""
        needle = text.strip().lower()
        for n in range(self.tree.topLevelItemCount()):
            _filter(self.tree.topLevelItem(n), needle)

    def visible_tags(self) -> list[str]:
        """Tags of the visible top-level rows (for tests)."""
        items = (self.tree.topLevelItem(n) for n in range(self.tree.topLevelItemCount()))
        return [item.text(0) for item in items if not item.isHidden()]


def _item(row: TagRow) -> QTreeWidgetItem:
    item = QTreeWidgetItem([row.tag, row.name, row.vr, row.value])
    item.setToolTip(3, row.value)
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsSelectable)
    for child in row.children:
        item.addChild(_item(child))
    return item


def _filter(item: QTreeWidgetItem, needle: str) -> bool:
    own = not needle or any(needle in item.text(c).lower() for c in range(4))
    child_match = False
    for n in range(item.childCount()):
        child_match |= _filter(item.child(n), needle if not own else "")
    visible = own or child_match
    item.setHidden(not visible)
    if child_match and needle:
        item.setExpanded(True)
    return visible
