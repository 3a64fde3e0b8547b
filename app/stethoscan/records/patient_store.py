"""SQLite store for patients and what was done with them.

One database file (``paths.database_path()``), WAL journal, schema versioned with
``PRAGMA user_version`` and migrated forward on open. All methods are thread-safe.
Times are ISO 8601 UTC strings; durations in seconds; rates in Hz.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stethoscan.core import paths
from stethoscan.core.errors import RecordsError
from stethoscan.records.scan_measurements import ScanMeasurement

_SCHEMA_V1 = """
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    patient_key TEXT NOT NULL UNIQUE,      -- DICOM PatientID or a generated key
    display_name TEXT NOT NULL DEFAULT '',
    birth_date TEXT,
    sex TEXT CHECK (sex IN ('F', 'M', 'O') OR sex IS NULL),
    education_years REAL,
    is_demo INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    title TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL
);
CREATE TABLE studies (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    study_uid TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    source_path TEXT NOT NULL,
    added_at TEXT NOT NULL,
    UNIQUE (patient_id, study_uid)
);
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    task TEXT NOT NULL DEFAULT 'free',
    take INTEGER NOT NULL DEFAULT 1,
    device TEXT NOT NULL DEFAULT '',
    sample_rate_hz INTEGER NOT NULL,
    channels INTEGER NOT NULL DEFAULT 1,
    duration_s REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'complete',  -- complete | recovered | imported | interrupted
    quality_json TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE TABLE markers (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    label TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'clinician'  -- clinician | auto
);
CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    visit_date TEXT NOT NULL,
    age_years REAL,
    mmse REAL CHECK (mmse IS NULL OR (mmse >= 0 AND mmse <= 30)),
    moca REAL CHECK (moca IS NULL OR (moca >= 0 AND moca <= 30)),
    cdr REAL CHECK (cdr IS NULL OR cdr IN (0, 0.5, 1, 2, 3)),
    other_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    input_ref TEXT NOT NULL,
    result_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_sessions_patient ON sessions(patient_id);
CREATE INDEX idx_recordings_session ON recordings(session_id);
CREATE INDEX idx_markers_recording ON markers(recording_id);
CREATE INDEX idx_visits_patient ON visits(patient_id);
CREATE INDEX idx_results_session ON results(session_id);
"""

_SCHEMA_V2 = """
CREATE TABLE scan_measurements (
    id INTEGER PRIMARY KEY,
    series_uid TEXT NOT NULL,
    position INTEGER NOT NULL,             -- drawing order within the series
    kind TEXT NOT NULL CHECK (kind IN ('distance', 'rectangle', 'ellipse')),
    plane TEXT NOT NULL CHECK (plane IN ('axial', 'coronal', 'sagittal')),
    slice_index INTEGER NOT NULL CHECK (slice_index >= 0),
    start_x_mm REAL NOT NULL,
    start_y_mm REAL NOT NULL,
    end_x_mm REAL NOT NULL,
    end_y_mm REAL NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    saved_at TEXT NOT NULL
);
CREATE INDEX idx_scan_measurements_series ON scan_measurements(series_uid);
"""

_MIGRATIONS: list[str] = [_SCHEMA_V1, _SCHEMA_V2]  # index i brings user_version i -> i+1


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Patient:
    id: int
    patient_key: str
    display_name: str = ""
    birth_date: str | None = None
    sex: str | None = None
    education_years: float | None = None
    is_demo: bool = False


@dataclass
class Recording:
    id: int
    session_id: int
    path: str
    task: str
    take: int
    device: str
    sample_rate_hz: int
    channels: int
    duration_s: float
    status: str
    quality: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""


@dataclass
class Marker:
    id: int
    recording_id: int
    start_s: float
    end_s: float
    label: str
    source: str = "clinician"


@dataclass
class Visit:
    id: int
    patient_id: int
    visit_date: str
    age_years: float | None = None
    mmse: float | None = None
    moca: float | None = None
    cdr: float | None = None
    other: dict[str, Any] = field(default_factory=dict)


class PatientStore:
    """Thread-safe access to the patient database file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else paths.database_path()
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise RecordsError(
                f"The patient database {self.path.name} cannot be opened ({exc}). "
                "Restore it from a backup or move it aside to start a new one."
            ) from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        for index in range(version, len(_MIGRATIONS)):
            with self._tx() as conn:
                for statement in _MIGRATIONS[index].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {index + 1}")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _insert(self, sql: str, args: tuple[Any, ...]) -> int:
        try:
            with self._tx() as conn:
                return int(conn.execute(sql, args).lastrowid)
        except sqlite3.IntegrityError as exc:
            raise RecordsError(f"The record could not be saved: {exc}.") from exc

    # -- patients ---------------------------------------------------------------------------
    def upsert_patient(
        self,
        patient_key: str,
        display_name: str = "",
        birth_date: str | None = None,
        sex: str | None = None,
        education_years: float | None = None,
        is_demo: bool = False,
    ) -> Patient:
        """Create the patient or update the given fields; return the stored patient."""
        existing = self.find_patient(patient_key)
        if existing is None:
            self._insert(
                "INSERT INTO patients (patient_key, display_name, birth_date, sex,"
                " education_years, is_demo, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (patient_key, display_name, birth_date, sex, education_years, int(is_demo), now_iso()),
            )
        else:
            with self._tx() as conn:
                conn.execute(
                    "UPDATE patients SET display_name = COALESCE(NULLIF(?, ''), display_name),"
                    " birth_date = COALESCE(?, birth_date), sex = COALESCE(?, sex),"
                    " education_years = COALESCE(?, education_years) WHERE id = ?",
                    (display_name, birth_date, sex, education_years, existing.id),
                )
        patient = self.find_patient(patient_key)
        assert patient is not None
        return patient

    def find_patient(self, patient_key: str) -> Patient | None:
        rows = self._query("SELECT * FROM patients WHERE patient_key = ?", (patient_key,))
        return _patient(rows[0]) if rows else None

    def get_patient(self, patient_id: int) -> Patient:
        rows = self._query("SELECT * FROM patients WHERE id = ?", (patient_id,))
        if not rows:
            raise RecordsError(f"Patient record {patient_id} does not exist.")
        return _patient(rows[0])

    def list_patients(self) -> list[Patient]:
        return [_patient(r) for r in self._query("SELECT * FROM patients ORDER BY display_name, id")]

    # -- sessions ---------------------------------------------------------------------------
    def start_session(self, patient_id: int, title: str = "") -> int:
        return self._insert(
            "INSERT INTO sessions (patient_id, title, started_at) VALUES (?, ?, ?)",
            (patient_id, title, now_iso()),
        )

    def latest_session(self, patient_id: int) -> int | None:
        rows = self._query(
            "SELECT id FROM sessions WHERE patient_id = ? ORDER BY id DESC LIMIT 1", (patient_id,)
        )
        return int(rows[0]["id"]) if rows else None

    def session_patient(self, session_id: int) -> int:
        rows = self._query("SELECT patient_id FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            raise RecordsError(f"Session {session_id} does not exist.")
        return int(rows[0]["patient_id"])

    # -- studies ----------------------------------------------------------------------------
    def add_study(self, patient_id: int, study_uid: str, source_path: str, description: str = "") -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO studies (patient_id, study_uid, description, source_path,"
                " added_at) VALUES (?, ?, ?, ?, ?)",
                (patient_id, study_uid, description, source_path, now_iso()),
            )

    def list_studies(self, patient_id: int) -> list[dict[str, Any]]:
        rows = self._query("SELECT * FROM studies WHERE patient_id = ? ORDER BY id", (patient_id,))
        return [dict(r) for r in rows]

    # -- recordings and markers -------------------------------------------------------------
    def add_recording(
        self,
        session_id: int,
        path: str,
        sample_rate_hz: int,
        *,
        task: str = "free",
        take: int = 1,
        device: str = "",
        channels: int = 1,
        duration_s: float = 0.0,
        status: str = "complete",
        quality: dict[str, Any] | None = None,
    ) -> int:
        return self._insert(
            "INSERT INTO recordings (session_id, path, task, take, device, sample_rate_hz, channels,"
            " duration_s, status, quality_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, path, task, take, device, sample_rate_hz, channels, duration_s, status,
             json.dumps(quality or {}), now_iso()),
        )

    def update_recording(self, recording_id: int, **fields: Any) -> None:
        allowed = {"path", "task", "take", "device", "duration_s", "status", "quality"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown recording fields: {sorted(unknown)}")
        if "quality" in fields:
            fields["quality_json"] = json.dumps(fields.pop("quality"))
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._tx() as conn:
            conn.execute(
                f"UPDATE recordings SET {assignments} WHERE id = ?", (*fields.values(), recording_id)
            )

    def list_recordings(self, session_id: int | None = None, patient_id: int | None = None) -> list[Recording]:
        if session_id is not None:
            rows = self._query("SELECT * FROM recordings WHERE session_id = ? ORDER BY id", (session_id,))
        elif patient_id is not None:
            rows = self._query(
                "SELECT r.* FROM recordings r JOIN sessions s ON r.session_id = s.id"
                " WHERE s.patient_id = ? ORDER BY r.id",
                (patient_id,),
            )
        else:
            rows = self._query("SELECT * FROM recordings ORDER BY id")
        return [_recording(r) for r in rows]

    def get_recording(self, recording_id: int) -> Recording:
        rows = self._query("SELECT * FROM recordings WHERE id = ?", (recording_id,))
        if not rows:
            raise RecordsError(f"Recording {recording_id} does not exist.")
        return _recording(rows[0])

    def delete_recording(self, recording_id: int) -> None:
        """Remove a take's record and its markers (the audio file is the caller's to remove)."""
        with self._tx() as conn:
            conn.execute("DELETE FROM recordings WHERE id = ?", (recording_id,))

    def replace_markers(self, recording_id: int, markers: list[tuple[float, float, str, str]]) -> None:
        """Replace all markers of a recording with ``(start_s, end_s, label, source)`` tuples."""
        with self._tx() as conn:
            conn.execute("DELETE FROM markers WHERE recording_id = ?", (recording_id,))
            conn.executemany(
                "INSERT INTO markers (recording_id, start_s, end_s, label, source) VALUES (?, ?, ?, ?, ?)",
                [(recording_id, float(a), float(b), label, src) for a, b, label, src in markers],
            )

    def list_markers(self, recording_id: int) -> list[Marker]:
        rows = self._query(
            "SELECT * FROM markers WHERE recording_id = ? ORDER BY start_s, id", (recording_id,)
        )
        return [Marker(r["id"], r["recording_id"], r["start_s"], r["end_s"], r["label"], r["source"]) for r in rows]

    # -- scan measurements ------------------------------------------------------------------
    def replace_scan_measurements(self, series_uid: str, measurements: list[ScanMeasurement]) -> None:
        """Replace the saved measurements of a series with ``measurements`` (in drawing order)."""
        rows = [(series_uid, i, m.kind, m.plane, int(m.slice_index), *map(float, m.start_mm),
                 *map(float, m.end_mm), m.summary, now_iso()) for i, m in enumerate(measurements)]
        try:
            with self._tx() as conn:
                conn.execute("DELETE FROM scan_measurements WHERE series_uid = ?", (series_uid,))
                conn.executemany(
                    "INSERT INTO scan_measurements (series_uid, position, kind, plane, slice_index,"
                    " start_x_mm, start_y_mm, end_x_mm, end_y_mm, summary, saved_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.IntegrityError as exc:
            raise RecordsError(f"The measurements could not be saved: {exc}.") from exc

    def list_scan_measurements(self, series_uid: str) -> list[ScanMeasurement]:
        """The saved measurements of a series, in drawing order."""
        rows = self._query("SELECT * FROM scan_measurements WHERE series_uid = ? ORDER BY position, id",
                           (series_uid,))
        return [ScanMeasurement(r["kind"], r["plane"], r["slice_index"], (r["start_x_mm"], r["start_y_mm"]),
                                (r["end_x_mm"], r["end_y_mm"]), r["summary"]) for r in rows]

    # -- visits (cognitive scores) ----------------------------------------------------------
    def add_visit(self, patient_id: int, visit_date: str, **scores: Any) -> int:
        """Save a visit; ``scores``: age_years, mmse (0-30), moca (0-30), cdr, other (dict)."""
        return self._insert(
            "INSERT INTO visits (visit_date, age_years, mmse, moca, cdr, other_json, patient_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*_visit_values(visit_date, **scores), patient_id),
        )

    def update_visit(self, visit_id: int, visit_date: str, **scores: Any) -> None:
        """Replace every field of a visit in one transaction (its id stays the same)."""
        try:
            with self._tx() as conn:
                cursor = conn.execute(
                    "UPDATE visits SET visit_date = ?, age_years = ?, mmse = ?, moca = ?, cdr = ?,"
                    " other_json = ? WHERE id = ?",
                    (*_visit_values(visit_date, **scores), visit_id),
                )
                if cursor.rowcount == 0:
                    raise RecordsError(f"Visit {visit_id} does not exist (deleted elsewhere?).")
        except sqlite3.IntegrityError as exc:
            raise RecordsError(f"The visit could not be saved: {exc}.") from exc

    def delete_visit(self, visit_id: int) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM visits WHERE id = ?", (visit_id,))

    def list_visits(self, patient_id: int) -> list[Visit]:
        rows = self._query(
            "SELECT * FROM visits WHERE patient_id = ? ORDER BY visit_date, id", (patient_id,)
        )
        return [
            Visit(r["id"], r["patient_id"], r["visit_date"], r["age_years"], r["mmse"], r["moca"],
                  r["cdr"], json.loads(r["other_json"]))
            for r in rows
        ]

    # -- model results ----------------------------------------------------------------------
    def add_result(
        self, session_id: int, model_name: str, model_version: str, input_ref: str, result: dict[str, Any]
    ) -> int:
        return self._insert(
            "INSERT INTO results (session_id, model_name, model_version, input_ref, result_json,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, model_name, model_version, input_ref, json.dumps(result), now_iso()),
        )

    def list_results(
        self, session_id: int | None = None, *, patient_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Saved results of one session, or of every session of one patient, oldest first."""
        if session_id is not None:
            rows = self._query("SELECT * FROM results WHERE session_id = ? ORDER BY id", (session_id,))
        elif patient_id is not None:
            rows = self._query(
                "SELECT r.* FROM results r JOIN sessions s ON r.session_id = s.id"
                " WHERE s.patient_id = ? ORDER BY r.id",
                (patient_id,),
            )
        else:
            raise ValueError("list_results needs a session_id or a patient_id")
        out = []
        for r in rows:
            item = dict(r)
            item["result"] = json.loads(item.pop("result_json"))
            out.append(item)
        return out


def _visit_values(
    visit_date: str,
    *,
    age_years: float | None = None,
    mmse: float | None = None,
    moca: float | None = None,
    cdr: float | None = None,
    other: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    """A visit's column values in the order (date, age, MMSE, MoCA, CDR, other as JSON)."""
    return (visit_date, age_years, mmse, moca, cdr, json.dumps(other or {}))


def _patient(row: sqlite3.Row) -> Patient:
    return Patient(
        row["id"], row["patient_key"], row["display_name"], row["birth_date"], row["sex"],
        row["education_years"], bool(row["is_demo"]),
    )


def _recording(row: sqlite3.Row) -> Recording:
    return Recording(
        row["id"], row["session_id"], row["path"], row["task"], row["take"], row["device"],
        row["sample_rate_hz"], row["channels"], row["duration_s"], row["status"],
        json.loads(row["quality_json"]), row["created_at"],
    )
