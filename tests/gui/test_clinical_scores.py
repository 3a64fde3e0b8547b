"""The cognitive scores panel: validated visits and details saved in the patient database,
plotted over time, and read back when the patient is opened again."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QDate

from stethoscan.gui.records.clinical_scores import ClinicalScoresPanel
from stethoscan.gui.records.score_plot import visit_timestamp
from stethoscan.gui.records.visit_form import check_other, check_visit


@pytest.fixture
def context(make_context):
    return make_context()


@pytest.fixture
def panel(context, qtbot):
    context.set_patient(context.store.upsert_patient("P-1", "Doe^Jane", "19500310", "F"))
    widget = ClinicalScoresPanel(context)
    qtbot.addWidget(widget)
    widget.resize(420, 760)
    widget.show()
    return widget


def fill(panel, day: str, mmse: str = "", moca: str = "", cdr=None, other: str = "", age: str = ""):
    panel.clear_form()
    panel.date_edit.setDate(QDate.fromString(day, "yyyy-MM-dd"))
    panel.mmse_edit.setText(mmse)
    panel.moca_edit.setText(moca)
    panel.visit_age_edit.setText(age)
    panel.cdr_combo.setCurrentIndex(panel.cdr_combo.findData(cdr) if cdr is not None else 0)
    panel.other_edit.setText(other)


def test_mmse_31_is_refused_with_a_message_and_nothing_is_saved(panel, context):
    changes = []
    context.visits_changed.connect(lambda: changes.append(1))
    fill(panel, "2023-05-02", mmse="31", moca="22")
    assert panel.add_visit() is None
    assert "MMSE must be a whole number from 0 to 30" in panel.error_label.text()
    assert "31" in panel.error_label.text()
    assert panel.mmse_edit.property("invalid") is True
    assert panel.moca_edit.property("invalid") is False
    assert context.store.list_visits(context.patient.id) == []
    assert changes == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"moca": "-1"}, "MoCA must be a whole number"),
        ({"mmse": "24.5"}, "MMSE must be a whole number"),
        ({"mmse": "abc"}, "MMSE must be a whole number"),
        ({"mmse": "25", "age": "7"}, "Age must be"),
        ({"mmse": "25", "other": "GDS"}, "name=value"),
        ({}, "at least one score"),
    ],
)
def test_each_invalid_field_gets_its_own_sentence(panel, context, fields, message):
    fill(panel, "2023-05-02", **fields)
    assert panel.add_visit() is None
    assert message in panel.error_label.text()
    assert context.store.list_visits(context.patient.id) == []


def test_a_future_date_and_a_wrong_cdr_are_refused():
    checked = check_visit("2999-01-01", "", "25", "", 0.7, "", today=date(2024, 1, 1))
    assert set(checked.errors) == {"visit_date", "cdr"}
    assert check_other("GDS=3; ADAS-Cog = 12,5") == ({"GDS": 3.0, "ADAS-Cog": 12.5}, "")


def test_valid_visits_are_saved_plotted_and_come_back_when_the_patient_is_reopened(panel, context, qtbot):
    with qtbot.waitSignal(context.visits_changed, timeout=1000):
        fill(panel, "2021-03-01", mmse="28", moca="26", cdr=0.0, other="GDS=2")
        assert panel.add_visit() is not None
    fill(panel, "2023-03-15", mmse="23", moca="19", cdr=0.5)
    assert panel.add_visit() is not None
    fill(panel, "2022-03-10", moca="24")
    assert panel.add_visit() is not None
    assert panel.error_label.text() == ""
    assert "saved" in panel.status_label.text()

    visits = context.store.list_visits(context.patient.id)
    assert [v.visit_date for v in visits] == ["2021-03-01", "2022-03-10", "2023-03-15"]
    assert visits[0].other == {"GDS": 2.0} and visits[2].cdr == 0.5
    assert visits[0].age_years == pytest.approx(71.0, abs=0.1)  # from the birth date
    assert panel.table.rowCount() == 3 and panel.table.item(2, 2).text() == "23"

    t, mmse = panel.plot.plotted("mmse")
    assert list(mmse) == [28.0, 23.0]
    assert list(t) == [visit_timestamp("2021-03-01"), visit_timestamp("2023-03-15")]
    _, moca = panel.plot.plotted("moca")
    assert list(moca) == [26.0, 24.0, 19.0]

    # another patient, then back: everything is read from the database again
    other = context.store.upsert_patient("P-2", "Roe^Richard")
    first = context.patient
    context.set_patient(other)
    assert panel.table.rowCount() == 0 and len(panel.plot.plotted("mmse")[1]) == 0
    reopened = ClinicalScoresPanel(context)
    qtbot.addWidget(reopened)
    context.set_patient(context.store.get_patient(first.id))
    assert reopened.table.rowCount() == 3
    assert list(reopened.plot.plotted("mmse")[1]) == [28.0, 23.0]


def test_editing_and_deleting_a_visit(panel, context):
    fill(panel, "2022-01-05", mmse="27")
    panel.add_visit()
    panel.table.selectRow(0)
    assert panel.mmse_edit.text() == "27" and panel.update_button.isEnabled()
    panel.mmse_edit.setText("40")
    assert panel.update_visit() is None  # refused: the old visit is kept unchanged
    assert [v.mmse for v in context.store.list_visits(context.patient.id)] == [27.0]
    panel.mmse_edit.setText("25")
    visit_id = context.store.list_visits(context.patient.id)[0].id
    assert panel.update_visit() == visit_id  # edited in place: results citing it stay linked
    assert [v.mmse for v in context.store.list_visits(context.patient.id)] == [25.0]
    panel.table.selectRow(0)
    panel.confirm_delete = lambda visit: False
    assert not panel.delete_visit()
    panel.confirm_delete = lambda visit: True
    assert panel.delete_visit()
    assert context.store.list_visits(context.patient.id) == []


def test_patient_details_are_checked_and_saved(panel, context):
    assert panel.birth_edit.text() == "1950-03-10"
    assert "age" in panel.age_label.text()
    panel.education_edit.setText("45")
    assert not panel.save_patient()
    assert "education must be from 0 to 30" in panel.error_label.text()
    panel.education_edit.setText("12")
    panel.sex_combo.setCurrentIndex(panel.sex_combo.findData("F"))
    assert panel.save_patient()
    stored = context.store.get_patient(context.patient.id)
    assert stored.education_years == 12.0 and stored.sex == "F"


def test_without_a_patient_the_form_says_what_to_do(context, qtbot):
    widget = ClinicalScoresPanel(context)
    qtbot.addWidget(widget)
    widget.show()
    assert widget.no_patient.isVisible() and not widget.body.isVisible()
    assert widget.add_visit() is None
