"""What the whole window shares: settings, the patient database, the workers, and the selection.

Widgets receive the :class:`AppContext` in their constructor (``Widget(context, parent=None)``),
read the current patient/series/recording from it and subscribe to its signals. They never talk
to each other directly.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from stethoscan.core.settings import Settings, save_settings
from stethoscan.gui.workers import Workers
from stethoscan.records.patient_store import Patient, PatientStore, Recording


class AppContext(QObject):
    patient_changed = Signal(object)  # Patient | None
    session_changed = Signal(int)  # session id
    series_opened = Signal(object)  # SeriesInfo: the viewer starts loading it
    volume_loaded = Signal(object, object)  # SeriesInfo, Volume (fully loaded)
    recording_selected = Signal(object)  # Recording | None
    recordings_changed = Signal()  # a take was added, recovered or removed
    visits_changed = Signal()
    results_changed = Signal()
    status_message = Signal(str)
    # An overlay on the open volume, in its voxel grid: (name, spec or None to remove). spec is a
    # dict: {"data": ndarray (slices, rows, cols), "kind": "heatmap" | "mask",
    #        "colormap": str, "opacity": float in [0, 1], "label": str for the legend}.
    scan_overlay_changed = Signal(str, object)

    def __init__(
        self, settings: Settings, store: PatientStore, workers: Workers, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = store
        self.workers = workers
        self.patient: Patient | None = None
        self.session_id: int | None = None
        self.series: Any = None  # imaging.model.SeriesInfo
        self.volume: Any = None  # imaging.volume.Volume
        self.recording: Recording | None = None
        self.latest_prediction: Any = None  # inference.prediction.Prediction shown in Results

    def set_patient(self, patient: Patient | None) -> None:
        if patient is not None and self.patient is not None and patient.id == self.patient.id:
            return
        self.patient = patient
        self.session_id = None
        self.recording = None
        self.patient_changed.emit(patient)

    def ensure_session(self) -> int:
        """The current session of the current patient, started on first use."""
        if self.patient is None:
            self.set_patient(self.store.upsert_patient("UNSPECIFIED", "Unspecified patient"))
        assert self.patient is not None
        if self.session_id is None:
            self.session_id = self.store.start_session(self.patient.id)
            self.session_changed.emit(self.session_id)
        return self.session_id

    def set_volume(self, series: Any, volume: Any) -> None:
        self.series, self.volume = series, volume
        self.volume_loaded.emit(series, volume)

    def select_recording(self, recording: Recording | None) -> None:
        self.recording = recording
        self.recording_selected.emit(recording)

    def save_settings(self) -> None:
        save_settings(self.settings)
