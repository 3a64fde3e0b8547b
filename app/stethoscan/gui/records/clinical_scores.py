"""The Cognitive scores dock: the patient's details, their visits with test scores, and a plot.

Demographics (birth date and age, sex, years of education) are saved with
``store.upsert_patient``; visits (date, age, MMSE 0-30, MoCA 0-30, CDR 0/0.5/1/2/3 and other
named scores) with ``store.add_visit`` / ``update_visit`` / ``delete_visit``. Every field is checked
(:mod:`visit_form`); a wrong value is named under the form and nothing is saved. Changes are
announced with ``context.visits_changed`` (the model panel then offers the score models).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stethoscan.core.errors import StethoscanError
from stethoscan.gui.records.score_plot import ScoreHistoryPlot
from stethoscan.gui.records.visit_form import (
    CDR_VALUES,
    check_education,
    check_visit,
    format_other,
)
from stethoscan.records.visit_dates import age_on, parse_date

COLUMNS = ("Date", "Age", "MMSE", "MoCA", "CDR", "Other")
SEXES = (("not recorded", None), ("female", "F"), ("male", "M"), ("other", "O"))
_STYLE = """
#formErrors { color: #f5c4c8; font-weight: 600; }
#formStatus { color: #9fd8a8; }
#noPatient { color: #6b737d; font-style: italic; }
QLineEdit[invalid="true"] { border: 1px solid #d9534f; background: #2a1517; }
"""


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class ClinicalScoresPanel(QWidget):
    saved = Signal(str)  # what was saved, for the status line and tests

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clinicalScoresPanel")
        self.setStyleSheet(_STYLE)
        self.context = context
        self.visits: list[Any] = []
        self.editing_id: int | None = None
        self.confirm_delete = self._ask_delete  # tests replace it
        self._build()
        context.patient_changed.connect(lambda _p: self.reload())
        context.visits_changed.connect(self.reload)
        self.reload()

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.no_patient = QLabel("Open a patient (a scan or a recording) to enter cognitive scores.")
        self.no_patient.setObjectName("noPatient")
        self.no_patient.setWordWrap(True)
        self.body = QWidget()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._patient_box())
        layout.addWidget(self._visits_table(), 1)
        layout.addWidget(self._visit_box())
        self.plot = ScoreHistoryPlot()
        layout.addWidget(self.plot, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.addWidget(self.no_patient)
        outer.addWidget(self.body, 1)

    def _patient_box(self) -> QGroupBox:
        box = QGroupBox("Patient")
        self.birth_edit = QLineEdit()
        self.birth_edit.setPlaceholderText("YYYY-MM-DD")
        self.age_label = QLabel()
        self.sex_combo = QComboBox()
        for text, value in SEXES:
            self.sex_combo.addItem(text, value)
        self.education_edit = QLineEdit()
        self.education_edit.setPlaceholderText("years, e.g. 12")
        self.save_patient_button = QPushButton("Save details")
        self.save_patient_button.clicked.connect(self.save_patient)
        birth_row = QHBoxLayout()
        birth_row.addWidget(self.birth_edit, 1)
        birth_row.addWidget(self.age_label)
        form = QFormLayout(box)
        form.addRow("Birth date", birth_row)
        form.addRow("Sex", self.sex_combo)
        form.addRow("Education", self.education_edit)
        form.addRow("", self.save_patient_button)
        return box

    def _visits_table(self) -> QTableWidget:
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("visitsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(150)
        self.table.itemSelectionChanged.connect(self._on_row_selected)
        return self.table

    def _visit_box(self) -> QGroupBox:
        box = QGroupBox("Visit")
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setDate(QDate.currentDate())
        self.visit_age_edit = QLineEdit()
        self.visit_age_edit.setPlaceholderText("from the birth date")
        self.mmse_edit = QLineEdit()
        self.mmse_edit.setPlaceholderText("0-30")
        self.moca_edit = QLineEdit()
        self.moca_edit.setPlaceholderText("0-30")
        self.cdr_combo = QComboBox()
        self.cdr_combo.addItem("—", None)
        for value in CDR_VALUES:
            self.cdr_combo.addItem(f"{value:g}", value)
        self.other_edit = QLineEdit()
        self.other_edit.setPlaceholderText("e.g. GDS=3; ADAS-Cog=12")
        self.fields = {"visit_date": self.date_edit, "age_years": self.visit_age_edit,
                       "mmse": self.mmse_edit, "moca": self.moca_edit, "cdr": self.cdr_combo,
                       "other": self.other_edit}  # fmt: skip
        self.add_button = QPushButton("Add visit")
        self.add_button.clicked.connect(self.add_visit)
        self.update_button = QPushButton("Save edit")
        self.update_button.clicked.connect(self.update_visit)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_visit)
        self.clear_button = QPushButton("New")
        self.clear_button.clicked.connect(self.clear_form)
        self.error_label = QLabel()
        self.error_label.setObjectName("formErrors")
        self.error_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setObjectName("formStatus")
        self.status_label.setWordWrap(True)
        scores = QHBoxLayout()
        for label, widget in (("MMSE", self.mmse_edit), ("MoCA", self.moca_edit), ("CDR", self.cdr_combo)):
            scores.addWidget(QLabel(label))
            scores.addWidget(widget, 1)
        buttons = QHBoxLayout()
        for button in (self.clear_button, self.delete_button, self.update_button, self.add_button):
            buttons.addWidget(button)
        buttons.insertStretch(2, 1)
        form = QFormLayout(box)
        form.addRow("Date", self.date_edit)
        form.addRow("Age", self.visit_age_edit)
        form.addRow("Scores", scores)
        form.addRow("Other", self.other_edit)
        form.addRow(buttons)
        form.addRow(self.error_label)
        form.addRow(self.status_label)
        return box

    # -- loading ------------------------------------------------------------------------------
    def reload(self) -> None:
        """Show the current patient's details and visits (from the database)."""
        patient = self.context.patient
        self.no_patient.setVisible(patient is None)
        self.body.setVisible(patient is not None)
        self.visits = self.context.store.list_visits(patient.id) if patient is not None else []
        if patient is not None:
            self._show_patient(patient)
        self._fill_table()
        self.plot.set_visits(self.visits)
        self._set_editing(None)

    def _show_patient(self, patient: Any) -> None:
        born = parse_date(patient.birth_date or "")
        self.birth_edit.setText(born.isoformat() if born else (patient.birth_date or ""))
        age = age_on(patient.birth_date)
        self.age_label.setText(f"age {age:.0f} years" if age is not None else "age unknown")
        self.sex_combo.setCurrentIndex(max(0, [v for _, v in SEXES].index(patient.sex)
                                           if patient.sex in ("F", "M", "O") else 0))  # fmt: skip
        self.education_edit.setText(_number_text(patient.education_years))

    def _fill_table(self) -> None:
        birth = self.context.patient.birth_date if self.context.patient is not None else None
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.visits))
        for row, v in enumerate(self.visits):
            derived = age_on(birth, v.visit_date)  # completed years when the visit has no age
            age = v.age_years if v.age_years is not None else (None if derived is None else int(derived))
            values = (v.visit_date, _number_text(age), _number_text(v.mmse),
                      _number_text(v.moca), _number_text(v.cdr), format_other(v.other))  # fmt: skip
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, col, item)
        self.table.clearSelection()
        self.table.blockSignals(False)

    def _on_row_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self._set_editing(None)
            return
        visit = self.visits[rows[0].row()]
        self.date_edit.setDate(QDate.fromString(visit.visit_date[:10], "yyyy-MM-dd"))
        self.visit_age_edit.setText(_number_text(visit.age_years))
        self.mmse_edit.setText(_number_text(visit.mmse))
        self.moca_edit.setText(_number_text(visit.moca))
        self.cdr_combo.setCurrentIndex(max(0, self.cdr_combo.findData(visit.cdr)) if visit.cdr is not None else 0)
        self.other_edit.setText(format_other(visit.other))
        self._set_editing(visit.id)

    def _set_editing(self, visit_id: int | None) -> None:
        self.editing_id = visit_id
        self.update_button.setEnabled(visit_id is not None)
        self.delete_button.setEnabled(visit_id is not None)

    def clear_form(self) -> None:
        self.table.clearSelection()
        for edit in (self.visit_age_edit, self.mmse_edit, self.moca_edit, self.other_edit):
            edit.clear()
        self.cdr_combo.setCurrentIndex(0)
        self.date_edit.setDate(QDate.currentDate())
        self._show_errors({})
        self._set_editing(None)

    # -- checking and saving ------------------------------------------------------------------
    def checked_visit(self):
        """The form checked (:class:`visit_form.CheckedVisit`); errors are shown at the fields."""
        visit_date = self.date_edit.date().toString("yyyy-MM-dd")
        age = self.visit_age_edit.text()
        checked = check_visit(visit_date, age, self.mmse_edit.text(), self.moca_edit.text(),
                              self.cdr_combo.currentData(), self.other_edit.text())  # fmt: skip
        if checked.ok and checked.age_years is None and self.context.patient is not None:
            checked.age_years = age_on(self.context.patient.birth_date, checked.visit_date)
        self._show_errors(checked.errors)
        return checked

    def _show_errors(self, errors: dict[str, str]) -> None:
        for key, widget in self.fields.items():
            if isinstance(widget, QLineEdit):
                widget.setProperty("invalid", key in errors)
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        self.error_label.setText("\n".join(errors.values()))
        if errors:
            self.status_label.clear()

    def add_visit(self) -> int | None:
        """Save the form as a new visit; the new visit's id, or None when the form is wrong."""
        patient = self.context.patient
        checked = self.checked_visit()
        if patient is None or not checked.ok:
            return None
        try:
            visit_id = self.context.store.add_visit(patient.id, checked.visit_date, **checked.store_kwargs())
        except StethoscanError as exc:
            self._show_errors({"store": str(exc)})
            return None
        self._after_change(f"Visit of {checked.visit_date} saved.")
        return visit_id

    def update_visit(self) -> int | None:
        """Save the form over the selected visit (one transaction: a refused form changes nothing)."""
        old, checked = self.editing_id, self.checked_visit()
        if old is None or not checked.ok:
            return None
        try:
            self.context.store.update_visit(old, checked.visit_date, **checked.store_kwargs())
        except StethoscanError as exc:
            self._show_errors({"store": str(exc)})
            return None
        self._after_change(f"Visit of {checked.visit_date} updated.")
        return old

    def delete_visit(self) -> bool:
        visit = next((v for v in self.visits if v.id == self.editing_id), None)
        if visit is None or not self.confirm_delete(visit):
            return False
        self.context.store.delete_visit(visit.id)
        self._after_change(f"Visit of {visit.visit_date} deleted.")
        return True

    def _ask_delete(self, visit: Any) -> bool:
        answer = QMessageBox.question(self, "Delete visit",
                                      f"Delete the visit of {visit.visit_date} and its scores?")  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes

    def _after_change(self, message: str) -> None:
        self.context.visits_changed.emit()  # reloads this panel too
        self.clear_form()
        self.status_label.setText(message)
        self.saved.emit(message)

    def save_patient(self) -> bool:
        """Save birth date, sex and years of education (checked first)."""
        patient = self.context.patient
        if patient is None:
            return False
        errors = {}
        birth_text = self.birth_edit.text().strip()
        born = parse_date(birth_text) if birth_text else None
        if birth_text and (born is None or born > date.today()):
            errors["birth_date"] = "Enter the birth date as YYYY-MM-DD (not in the future)."
        education, error = check_education(self.education_edit.text())
        if error:
            errors["education_years"] = error
        self._show_errors(errors)
        if errors:
            return False
        updated = self.context.store.upsert_patient(
            patient.patient_key, "", born.isoformat() if born else None,
            self.sex_combo.currentData(), education,
        )
        self.context.patient = updated  # same patient: no patient_changed, only new details
        self._show_patient(updated)
        self.context.visits_changed.emit()  # the model inputs (age, sex, education) changed
        self.status_label.setText("Patient details saved.")
        self.saved.emit("patient")
        return True
