"""The measurements a clinician drew, kept per series and saved in the patient database (no Qt).

Records (``records.scan_measurements.ScanMeasurement``, here ``KeptMeasurement``) are keyed by
series instance UID (a split series' own UID), so the measurements of one series never appear on
another. With a store attached (``attach_store``), a series' saved measurements are read the first
time it is shown and the whole set of a series is written again whenever one of them is drawn,
changed or deleted: closing the program loses nothing. Without a store they last for the session.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from stethoscan.core.errors import RecordsError
from stethoscan.records.scan_measurements import KINDS, ScanMeasurement

KeptMeasurement = ScanMeasurement
_log = logging.getLogger(__name__)


class KeptMeasurements:
    """Measurements of every series shown, by series UID; saved through a store when attached."""

    def __init__(self) -> None:
        self._by_series: dict[str, list[KeptMeasurement]] = {}
        self._store: Any = None  # records.patient_store.PatientStore
        self._on_error: Callable[[str], None] = lambda _message: None
        self._read: set[str] = set()  # series whose saved measurements were read

    def attach_store(self, store: Any, on_error: Callable[[str], None] | None = None) -> None:
        """Save to and read from ``store`` (a PatientStore); ``on_error`` gets a message for
        the clinician when the database cannot be read or written."""
        self._store = store
        self._on_error = on_error or self._on_error
        self._read.clear()

    def add(self, series_uid: str, record: KeptMeasurement) -> KeptMeasurement:
        if record.kind not in KINDS:
            raise ValueError(f"unknown measurement kind {record.kind!r}")
        self._load(series_uid)
        self._by_series.setdefault(series_uid, []).append(record)
        self.save(series_uid)
        return record

    def remove(self, series_uid: str, record: KeptMeasurement) -> None:
        """Forget ``record`` (the clinician deleted it); unknown records are ignored."""
        records = self._by_series.get(series_uid, [])
        if not any(r is record for r in records):
            return
        records[:] = [r for r in records if r is not record]
        if not records:
            self._by_series.pop(series_uid, None)
        self.save(series_uid)

    def for_series(self, series_uid: str | None, plane: str | None = None) -> list[KeptMeasurement]:
        """The kept measurements of a series (optionally of one plane), in drawing order."""
        if not series_uid:
            return []
        self._load(series_uid)
        records = self._by_series.get(series_uid, [])
        return [r for r in records if plane is None or r.plane == plane]

    def series_uids(self) -> list[str]:
        """UIDs of the series that have kept measurements (read so far)."""
        return list(self._by_series)

    def save(self, series_uid: str | None) -> bool:
        """Write the series' measurements to the store; False (and a message) if that failed."""
        if not series_uid or self._store is None:
            return True
        try:
            self._store.replace_scan_measurements(series_uid, self._by_series.get(series_uid, []))
        except (RecordsError, sqlite3.Error) as exc:
            _log.warning("Measurements could not be saved: %s", type(exc).__name__)
            self._on_error("The measurements could not be saved to the patient database "
                           f"({exc}); they stay on screen until the program closes. "
                           "Check the disk space and that the database file is writable.")
            return False
        return True

    def _load(self, series_uid: str) -> None:
        if self._store is None or series_uid in self._read:
            return
        self._read.add(series_uid)
        try:
            saved = self._store.list_scan_measurements(series_uid)
        except (RecordsError, sqlite3.Error) as exc:
            _log.warning("Saved measurements could not be read: %s", type(exc).__name__)
            self._on_error(f"The saved measurements of this series could not be read ({exc}).")
            return
        if saved:
            self._by_series.setdefault(series_uid, [])[:0] = saved
