"""Patient -> study -> series tree of everything opened; selecting a series loads it."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stethoscan.gui.viewer.corner_text import format_dicom_date, format_person_name

_ROLE = Qt.ItemDataRole.UserRole


def merge_indexes(indexes: list[Any]) -> list[Any]:
    """Patients of several ScanIndex results, merged by patient ID, study and series UID."""
    from stethoscan.imaging.model import PatientInfo, StudyInfo

    patients: dict[tuple[str, str], Any] = {}
    for index in indexes:
        for patient in index.patients:
            key = (patient.patient_id, patient.name)
            merged = patients.setdefault(key, PatientInfo(patient.patient_id, patient.name,
                                                          patient.birth_date, patient.sex))
            studies = {s.study_uid: s for s in merged.studies}
            for study in patient.studies:
                target = studies.get(study.study_uid)
                if target is None:
                    target = StudyInfo(study.study_uid, study.date, study.description,
                                       study.accession_number)
                    merged.studies.append(target)
                    studies[study.study_uid] = target
                known = {s.series_uid for s in target.series}
                target.series.extend(s for s in study.series if s.series_uid not in known)
    return list(patients.values())


def _qimage(image: np.ndarray) -> QImage:
    image = np.ascontiguousarray(image)
    rows, cols = image.shape[:2]
    if image.ndim == 3:
        return QImage(image.data, cols, rows, cols * 3, QImage.Format.Format_RGB888).copy()
    return QImage(image.data, cols, rows, cols, QImage.Format.Format_Grayscale8).copy()


def series_tooltip(series: Any) -> str:
    lines = [f"{series.modality}  {series.description}".strip(),
             f"{series.number_of_slices} images, {series.rows} × {series.columns} pixels"]
    if series.pixel_spacing_mm:
        row_mm, col_mm = series.pixel_spacing_mm
        slice_mm = f" × {series.slice_spacing_mm:.2f}" if series.slice_spacing_mm else ""
        lines.append(f"Voxel {col_mm:.2f} × {row_mm:.2f}{slice_mm} mm")
    if series.split_reason:
        lines.append(f"Split from its original series: {series.split_reason}")
    lines += [f"⚠ {w}" for w in series.warnings]
    return "\n".join(lines)


class PatientBrowser(QWidget):
    series_selected = Signal(object, object, object)  # SeriesInfo, PatientInfo, StudyInfo
    skipped_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientBrowser")
        self.indexes: list[Any] = []
        self.patients: list[Any] = []
        self.skipped: list[Any] = []
        self._current_uid: str | None = None
        self.tree = QTreeWidget()
        self.tree.setObjectName("patientTree")
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(1)
        self.tree.setRootIsDecorated(True)
        self.tree.setIconSize(QSize(40, 40))
        self.thumbnails: dict[str, QIcon] = {}
        self.tree.setAnimated(True)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemActivated.connect(lambda item, _col: self._emit_series(item, force=True))
        self.summary = QLabel("Nothing opened yet")
        self.summary.setObjectName("browserSummary")
        self.skipped_button = QPushButton("Skipped files")
        self.skipped_button.setObjectName("skippedButton")
        self.skipped_button.setFlat(True)
        self.skipped_button.clicked.connect(self.skipped_requested)
        self.skipped_button.hide()
        bottom = QHBoxLayout()
        bottom.setContentsMargins(6, 2, 6, 4)
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.skipped_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tree, 1)
        layout.addLayout(bottom)
        self._warning_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)

    def add_index(self, index: Any) -> None:
        """Add what an indexing run found (merged with earlier ones) and its skipped files."""
        self.indexes.append(index)
        self.skipped.extend(index.skipped)
        self.patients = merge_indexes(self.indexes)
        self._rebuild()

    def _rebuild(self) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        for patient in self.patients:
            self.tree.addTopLevelItem(self._patient_item(patient))
        self.tree.expandAll()
        self.tree.blockSignals(False)
        n_series = sum(len(st.series) for p in self.patients for st in p.studies)
        self.summary.setText(f"{len(self.patients)} patient(s) · {n_series} series")
        self.skipped_button.setVisible(bool(self.skipped))
        self.skipped_button.setText(f"{len(self.skipped)} skipped file(s)…")
        if self._current_uid:
            self._select_uid(self._current_uid, emit=False)

    def _patient_item(self, patient: Any) -> QTreeWidgetItem:
        name = format_person_name(patient.name) or "(no name)"
        text = f"{name}   ID {patient.patient_id}" if patient.patient_id else name
        item = QTreeWidgetItem([text])
        details = [f"ID {patient.patient_id}", patient.sex, format_dicom_date(patient.birth_date),
                   f"{len(patient.studies)} study(ies)"]
        item.setToolTip(0, "\n".join([name] + [d for d in details if d]))
        item.setData(0, _ROLE, ("patient", patient))
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        for study in patient.studies:
            item.addChild(self._study_item(patient, study))
        return item

    def _study_item(self, patient: Any, study: Any) -> QTreeWidgetItem:
        text = "  ".join(x for x in (format_dicom_date(study.date), study.description) if x) or "Study"
        item = QTreeWidgetItem([text])
        item.setToolTip(0, f"{text}\n{len(study.series)} series")
        item.setData(0, _ROLE, ("study", study))
        for series in sorted(study.series, key=lambda s: (s.series_number is None, s.series_number or 0)):
            item.addChild(self._series_item(patient, study, series))
        return item

    def _series_item(self, patient: Any, study: Any, series: Any) -> QTreeWidgetItem:
        """Two lines: the description, then modality, series number and image count."""
        title = series.description or "(no description)"
        split_label = getattr(series, "split_label", "")
        if split_label:
            title = f"{title} · {split_label}"
        facts = [series.modality or "?"]
        if series.series_number is not None:
            facts.append(f"Se {series.series_number}")
        facts.append(f"{series.number_of_slices} image{'s' if series.number_of_slices != 1 else ''}")
        warning = "⚠ " if series.warnings or series.split_reason else ""
        item = QTreeWidgetItem([f"{title}\n{warning}{' · '.join(facts)}"])
        item.setData(0, _ROLE, ("series", (series, patient, study)))
        item.setToolTip(0, series_tooltip(series))
        icon = self.thumbnails.get(series.series_uid)
        if icon is None and warning:
            icon = self._warning_icon
        if icon is not None:
            item.setIcon(0, icon)
        return item

    def set_thumbnail(self, series_uid: str, image: np.ndarray) -> None:
        """Show a grey or RGB uint8 image beside the series."""
        self.thumbnails[series_uid] = QIcon(QPixmap.fromImage(_qimage(image)))
        for item in self.series_items():
            if item.data(0, _ROLE)[1][0].series_uid == series_uid:
                item.setIcon(0, self.thumbnails[series_uid])

    def series_without_thumbnails(self) -> list[Any]:
        return [s for p in self.patients for st in p.studies for s in st.series
                if s.series_uid not in self.thumbnails]

    def series_items(self) -> list[QTreeWidgetItem]:
        found = []
        for n in range(self.tree.topLevelItemCount()):
            stack = [self.tree.topLevelItem(n)]
            while stack:
                item = stack.pop()
                kind, _ = item.data(0, _ROLE)
                if kind == "series":
                    found.append(item)
                stack.extend(item.child(c) for c in range(item.childCount()))
        return found

    def select_series(self, series_uid: str) -> bool:
        """Select (and so load) a series by UID; False if it is not in the tree."""
        return self._select_uid(series_uid, emit=True)

    def _select_uid(self, series_uid: str, emit: bool) -> bool:
        for item in self.series_items():
            series = item.data(0, _ROLE)[1][0]
            if series.series_uid == series_uid:
                self.tree.blockSignals(not emit)
                self.tree.setCurrentItem(item)
                self.tree.blockSignals(False)
                return True
        return False

    def _on_selection(self) -> None:
        items = self.tree.selectedItems()
        if items:
            self._emit_series(items[0], force=False)

    def _emit_series(self, item: QTreeWidgetItem, force: bool) -> None:
        kind, payload = item.data(0, _ROLE)
        if kind != "series":
            return
        series, patient, study = payload
        if series.series_uid == self._current_uid and not force:
            return
        self._current_uid = series.series_uid
        self.series_selected.emit(series, patient, study)
