import sqlite3

import pytest

from stethoscan.core.errors import RecordsError
from stethoscan.records.patient_store import PatientStore


def test_patient_session_recording_markers_visits_results(tmp_path):
    db = tmp_path / "p.sqlite3"
    store = PatientStore(db)
    patient = store.upsert_patient("KEY1", "Demo^Patient", sex="F", education_years=12)
    session = store.start_session(patient.id, "consultation")
    rec = store.add_recording(session, "/r/a.wav", 48000, task="vowel_a", take=2, quality={"snr_db": 31.0})
    store.replace_markers(rec, [(0.5, 1.2, "inspiration", "clinician"), (1.2, 2.0, "expiration", "auto")])
    store.add_visit(patient.id, "2026-01-02", age_years=71, mmse=27, moca=24)
    store.add_result(session, "resp", "1.0", "/r/a.wav", {"top": "normal"})
    store.close()

    again = PatientStore(db)  # a real file: reopened, everything is there
    assert again.find_patient("KEY1").education_years == 12
    [recording] = again.list_recordings(patient_id=patient.id)
    assert recording.task == "vowel_a" and recording.quality == {"snr_db": 31.0}
    assert [m.label for m in again.list_markers(rec)] == ["inspiration", "expiration"]
    assert again.list_visits(patient.id)[0].moca == 24
    assert again.list_results(session)[0]["result"] == {"top": "normal"}
    again.close()


def test_scores_outside_their_range_are_refused(tmp_path):
    store = PatientStore(tmp_path / "p.sqlite3")
    patient = store.upsert_patient("K")
    with pytest.raises(RecordsError):
        store.add_visit(patient.id, "2026-01-02", mmse=31)
    store.close()


def test_corrupt_database_gives_actionable_error(tmp_path):
    db = tmp_path / "p.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(RecordsError, match="move it aside"):
        PatientStore(db)
    assert sqlite3.sqlite_version


def test_deleting_a_take_removes_its_markers(tmp_path):
    store = PatientStore(tmp_path / "p.sqlite3")
    patient = store.upsert_patient("K")
    session = store.start_session(patient.id)
    rec = store.add_recording(session, "/r/a.flac", 48000)
    store.replace_markers(rec, [(0.0, 1.0, "cough", "clinician")])
    store.delete_recording(rec)
    assert store.list_recordings(session) == []
    assert store.list_markers(rec) == []
    store.close()


def test_updating_a_visit_keeps_its_id_and_refuses_bad_scores(tmp_path):
    store = PatientStore(tmp_path / "p.sqlite3")
    patient = store.upsert_patient("K")
    visit = store.add_visit(patient.id, "2026-01-02", mmse=27, other={"clock": 4})
    store.update_visit(visit, "2026-01-03", mmse=25, moca=22, cdr=0.5)
    [saved] = store.list_visits(patient.id)
    assert (saved.id, saved.visit_date, saved.mmse, saved.moca, saved.cdr) == (
        visit, "2026-01-03", 25, 22, 0.5)
    assert saved.other == {}
    with pytest.raises(RecordsError, match="could not be saved"):
        store.update_visit(visit, "2026-01-03", mmse=31)
    assert store.list_visits(patient.id)[0].mmse == 25  # the failed update changed nothing
    with pytest.raises(RecordsError, match="does not exist"):
        store.update_visit(visit + 99, "2026-01-03")
    store.close()


def test_results_of_every_session_of_one_patient(tmp_path):
    store = PatientStore(tmp_path / "p.sqlite3")
    first, other = store.upsert_patient("A"), store.upsert_patient("B")
    s1, s2, s3 = (store.start_session(first.id), store.start_session(first.id),
                  store.start_session(other.id))
    for session, name in ((s1, "m1"), (s3, "m3"), (s2, "m2")):
        store.add_result(session, name, "1.0", "/x", {"top": name})
    assert [r["model_name"] for r in store.list_results(patient_id=first.id)] == ["m1", "m2"]
    assert [r["result"]["top"] for r in store.list_results(s3)] == ["m3"]
    with pytest.raises(ValueError):
        store.list_results()
    store.close()


def test_scan_measurements_are_saved_per_series_and_replaced(tmp_path):
    from stethoscan.records.scan_measurements import ScanMeasurement

    db = tmp_path / "p.sqlite3"
    store = PatientStore(db)
    ruler = ScanMeasurement("distance", "axial", 10, (5.0, 4.0), (29.0, 22.0), "30.0 mm")
    roi = ScanMeasurement("ellipse", "coronal", 3, (1.5, 2.5), (9.0, 8.0), "Mean 40.0 HU")
    store.replace_scan_measurements("1.2.3.1", [ruler, roi])
    store.replace_scan_measurements("1.2.3.2", [roi])
    store.close()

    again = PatientStore(db)
    saved = again.list_scan_measurements("1.2.3.1")
    assert [m.same_as(r) for m, r in zip(saved, [ruler, roi], strict=True)] == [True, True]
    again.replace_scan_measurements("1.2.3.1", [roi])  # the ruler was deleted
    assert [m.kind for m in again.list_scan_measurements("1.2.3.1")] == ["ellipse"]
    assert len(again.list_scan_measurements("1.2.3.2")) == 1  # another series is untouched
    assert again.list_scan_measurements("9.9") == []
    with pytest.raises(RecordsError, match="could not be saved"):
        again.replace_scan_measurements("1.2.3.1", [ScanMeasurement("angle", "axial", 0, (0, 0), (1, 1))])
    assert [m.kind for m in again.list_scan_measurements("1.2.3.1")] == ["ellipse"]  # rolled back
    again.close()


def test_a_database_of_the_first_schema_is_migrated_and_keeps_its_data(tmp_path):
    from stethoscan.records import patient_store

    db = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(db)
    conn.executescript(patient_store._SCHEMA_V1)
    conn.execute("INSERT INTO patients (patient_key, display_name, created_at) VALUES ('K', 'Old^One', 'x')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    store = PatientStore(db)
    assert store.find_patient("K").display_name == "Old^One"
    assert store._query("PRAGMA user_version")[0][0] == len(patient_store._MIGRATIONS)
    assert store.list_scan_measurements("1.2") == []
    store.close()
