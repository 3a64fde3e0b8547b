"""The audio review view: waveform, spectrogram, playback, markers and analysis of one take.

Shows the take selected in the :class:`AppContext` (``recording_selected``), or one chosen in its
own list of the patient's takes. Reading the file and computing the spectrogram run in the io
worker pool, so long recordings never freeze the window. Markers are saved to the patient
database as soon as they change; automatic segments from the analysis are proposed and saved
when accepted. Audio files can be imported as takes of the current session and a take exported
as WAV or FLAC (samples only, no metadata).

Keys: Space play/stop, M add a marker over the selection, Delete remove the selected marker,
Z zoom to the selection, 0 show the whole take.

Selection, playback and markers are in :mod:`review_playback_markers`, import and export in
:mod:`take_import_export` (mixins of :class:`AudioReviewView`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from stethoscan.audio.spectrogram_image import compute_spectrogram
from stethoscan.core.errors import StethoscanError
from stethoscan.gui.studio.analysis_panel import AnalysisPanel
from stethoscan.gui.studio.marker_panel import MarkerPanel
from stethoscan.gui.studio.markers import MarkerLayer, ReviewMarker
from stethoscan.gui.studio.playback import Playback
from stethoscan.gui.studio.review_playback_markers import ReviewPlaybackAndMarkers
from stethoscan.gui.studio.review_plot_style import BACKGROUND
from stethoscan.gui.studio.review_selection import ReviewSelection
from stethoscan.gui.studio.review_spectrogram import ReviewSpectrogram
from stethoscan.gui.studio.review_waveform import ReviewWaveform
from stethoscan.gui.studio.spectrogram_controls import SpectrogramControls
from stethoscan.gui.studio.take_import_export import TakeImportExport
from stethoscan.gui.studio.take_loading import LoadedTake, describe_take, load_take, take_title

_log = logging.getLogger(__name__)


class AudioReviewView(ReviewPlaybackAndMarkers, TakeImportExport, QWidget):
    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audioReview")
        self.context = context
        self.recording = None  # records.patient_store.Recording or None
        self.take: LoadedTake | None = None
        self.load_job = self.spectrogram_job = self.io_job = None
        self.playback = Playback(parent=self)
        self._build_plots()
        self.analysis = AnalysisPanel(context, self.playback)
        self.marker_panel = MarkerPanel(self.markers)
        self._build_layout()
        self._connect()
        self._refresh_recordings()
        self._show_empty()
        if context.recording is not None:  # chosen before this view was first shown
            self.show_recording(context.recording)

    # -- construction -------------------------------------------------------------------------
    def _build_plots(self) -> None:
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        layout = self.graphics.ci
        layout.setSpacing(2)
        self.waveform = ReviewWaveform(layout, row=0, overview_row=2, parent=self)
        self.spectrogram = ReviewSpectrogram(layout, row=1, parent=self)
        self.spectrogram.plot.setXLink(self.waveform.plot)
        layout.layout.setRowStretchFactor(0, 2)
        layout.layout.setRowStretchFactor(1, 3)
        self.waveform.overview.setMaximumHeight(78)
        plots = [self.waveform.plot, self.spectrogram.plot]
        self.selection = ReviewSelection(plots, [self.waveform.overview], parent=self)
        self.markers = MarkerLayer(plots, parent=self)

    def _build_layout(self) -> None:
        self.recording_combo = QComboBox()
        self.recording_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.recording_combo.setMinimumContentsLength(16)  # long take titles do not widen the window
        self.recording_combo.setMinimumWidth(150)
        self.recording_combo.setToolTip("The take shown: choose one of the current patient's takes")
        self.import_button = _button("Import…", "Import a WAV, FLAC, OGG or MP3 file as a take of this session")
        self.export_button = QToolButton()  # one button, two formats: the row fits a laptop
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save this take as WAV or FLAC (no metadata)")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        self.export_wav_action = export_menu.addAction("WAV file (no metadata)…")
        self.export_flac_action = export_menu.addAction("FLAC file (no metadata)…")
        self.export_button.setMenu(export_menu)
        self.play_button = _button("▶ Play", "Play from the cursor (Space)")
        self.play_selection_button = _button("▶ Selection", "Play the selected span")
        self.stop_button = _button("■ Stop", "Stop playback (Space)")
        self.zoom_button = _button("Zoom", "Zoom to the selected span (Z)")
        self.all_button = _button("Show all", "Show the whole take (0)")
        self.spectrogram_controls = SpectrogramControls(self.context.settings.audio.spectrogram_dynamic_range_db)
        self.spectrogram.set_dynamic_range(self.spectrogram_controls.range_spin.value())
        self.info = QLabel("")
        self.info.setObjectName("browserSummary")
        self.marker_legend = QLabel("")
        self.marker_legend.setToolTip("Marker colours; dashed spans marked ? are proposals")
        self.position_label = QLabel("")
        self.position_label.setObjectName("cursorReading")
        for label in (self.info, self.position_label):
            label.setWordWrap(True)  # long lines wrap instead of widening the window
        self.message = QLabel("")
        self.message.setObjectName("errorMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        top = QHBoxLayout()
        top.addWidget(self.recording_combo, 1)  # its placeholder and tooltip say it is the take
        for widget in (self.import_button, self.export_button, None,
                       self.play_button, self.play_selection_button, self.stop_button, None,
                       self.zoom_button, self.all_button):
            top.addSpacing(10) if widget is None else top.addWidget(widget)
        second = QHBoxLayout()
        second.addWidget(self.spectrogram_controls)
        second.addStretch(1)
        second.addWidget(self.position_label)
        plots = QWidget()
        plots_layout = QVBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.addLayout(second)
        plots_layout.addWidget(self.graphics, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.info, 1)
        bottom.addWidget(self.marker_legend)
        plots_layout.addLayout(bottom)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.marker_panel, "Markers")
        self.side_tabs.addTab(self.analysis, "Analysis")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(plots)
        self.splitter.addWidget(self.side_tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([820, 460])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        ctx = self.context
        ctx.recording_selected.connect(self.show_recording)
        ctx.recordings_changed.connect(self._refresh_recordings)
        ctx.patient_changed.connect(self._on_patient_changed)
        self.recording_combo.activated.connect(self._on_recording_chosen)
        self.import_button.clicked.connect(self.choose_import)
        self.export_wav_action.triggered.connect(lambda: self.choose_export("WAV"))
        self.export_flac_action.triggered.connect(lambda: self.choose_export("FLAC"))
        self.play_button.clicked.connect(self.play)
        self.play_selection_button.clicked.connect(self.play_selection)
        self.stop_button.clicked.connect(self.playback.stop)
        self.zoom_button.clicked.connect(self.zoom_to_selection)
        self.all_button.clicked.connect(self.show_all)
        for view_box in (self.waveform.view_box, self.spectrogram.view_box):
            view_box.selection_dragged.connect(self.selection.set_span)
            view_box.time_clicked.connect(self._on_time_clicked)
        self.selection.changed.connect(self._on_selection_changed)
        self.selection.cursor_moved.connect(lambda _t: self._update_position_label())
        self.playback.position_changed.connect(self._on_playback_position)
        self.playback.state_changed.connect(self._on_playback_state)
        self.playback.failed.connect(self.show_message)
        self.markers.saved_markers_edited.connect(self.save_markers)
        self.markers.changed.connect(self._update_marker_legend)
        self.markers.changed.connect(lambda: self.analysis.set_saved_markers(self.markers.saved_rows()))
        self.marker_panel.add_requested.connect(self.add_marker)
        self.analysis.result_ready.connect(self._on_analysis)
        controls = self.spectrogram_controls
        controls.scale_changed.connect(lambda _s: self._start_spectrogram())
        controls.dynamic_range_changed.connect(self._on_dynamic_range)
        controls.colour_map_changed.connect(self.spectrogram.set_colour_map)
        controls.max_frequency_changed.connect(self.spectrogram.set_max_frequency)
        for keys, slot in (("Space", self.toggle_playback), ("M", self._add_marker_shortcut),
                           ("B", self.mark_breath),
                           ("Delete", self.marker_panel.delete_selected), ("Z", self.zoom_to_selection),
                           ("0", self.show_all)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    # -- the take list ------------------------------------------------------------------------
    def _refresh_recordings(self) -> None:
        patient = self.context.patient
        recordings = self.context.store.list_recordings(patient_id=patient.id) if patient else []
        self.recording_combo.blockSignals(True)
        self.recording_combo.clear()
        for rec in recordings:
            self.recording_combo.addItem(take_title(rec), rec.id)
        current = self.recording_combo.findData(self.recording.id) if self.recording else -1
        if current < 0 and self.recording is not None:
            self.recording_combo.insertItem(0, take_title(self.recording), self.recording.id)
            current = 0
        self.recording_combo.setCurrentIndex(current)
        self.recording_combo.setPlaceholderText("No take: record one or import a file")
        self.recording_combo.blockSignals(False)

    def _on_patient_changed(self, _patient) -> None:
        self._refresh_recordings()

    def _on_recording_chosen(self, index: int) -> None:
        recording_id = self.recording_combo.itemData(index)
        if recording_id is not None and (self.recording is None or recording_id != self.recording.id):
            try:
                self.context.select_recording(self.context.store.get_recording(int(recording_id)))
            except StethoscanError as exc:
                self.show_message(str(exc))

    # -- opening a take -----------------------------------------------------------------------
    def show_recording(self, recording) -> None:
        """Open a take of the patient store (None clears the view)."""
        self._close_take()
        self.recording = recording
        self._refresh_recordings()
        if recording is None:
            self._show_empty()
            return
        self.info.setText(f"Opening {Path(recording.path).name}…")
        self.load_job = self.context.workers.submit("Opening the recording", load_take, recording.path)
        # Bound methods, not lambdas: Qt drops them if this view goes first. A superseded job is
        # cancelled, and a cancelled job never reports "finished".
        self.load_job.finished.connect(self._on_take_loaded)
        self.load_job.failed.connect(self._on_load_failed)

    def show_clip(self, clip) -> None:
        """Show an audio clip that is not a saved take (markers are then not saved)."""
        self._close_take()
        self.recording = None
        self._on_loaded(None, LoadedTake.from_clip(clip))

    def _close_take(self) -> None:
        self.playback.stop()
        self.analysis.cancel()
        for job in (self.load_job, self.spectrogram_job):
            if job is not None and job.is_running:
                job.cancel()
        self.take = None
        self.selection.clear()
        self.selection.hide_cursor()
        self.spectrogram.set_spectrogram(None)
        self.spectrogram.set_pitch(None, None)
        self.markers.clear()
        self.show_message("")

    def _show_empty(self) -> None:
        self.waveform.set_levels(None)
        self.spectrogram.set_spectrogram(None)
        self.spectrogram.set_pitch(None, None)
        self.analysis.set_clip(None)
        self.info.setText("No take open. Choose one above, record one in the recording studio, "
                          "or import an audio file.")
        self._update_actions()

    def _on_take_loaded(self, take: LoadedTake) -> None:
        self._on_loaded(self.recording, take)

    def _on_loaded(self, recording, take: LoadedTake) -> None:
        self.take = take
        self.waveform.set_levels(take.levels)
        self.spectrogram.set_pitch(None, None)
        self.spectrogram_controls.set_nyquist(take.clip.rate_hz / 2.0)
        self.spectrogram.set_max_frequency(self.spectrogram_controls.max_frequency())
        self.info.setText(describe_take(take))
        if recording is not None:
            saved = self.context.store.list_markers(recording.id)
            self.markers.set_saved([ReviewMarker(m.start_s, m.end_s, m.label, m.source) for m in saved])
        self.analysis.set_clip(take.clip, recording.task if recording is not None else None)
        self._start_spectrogram()
        self._update_actions()

    def _on_load_failed(self, exc: BaseException) -> None:
        self.info.setText("")
        self.show_message(str(exc) if isinstance(exc, StethoscanError) else
                          f"The recording could not be opened ({type(exc).__name__}: {exc}).")
        self._show_empty()

    def _start_spectrogram(self) -> None:
        if self.take is None:
            return
        if self.spectrogram_job is not None and self.spectrogram_job.is_running:
            self.spectrogram_job.cancel()
        take = self.take
        self.spectrogram_job = self.context.workers.submit(
            "Computing the spectrogram", compute_spectrogram, take.levels.samples, take.clip.rate_hz,
            self.spectrogram_controls.scale())
        self.spectrogram_job.finished.connect(self.spectrogram.set_spectrogram)
        self.spectrogram_job.failed.connect(self._on_io_failed)

    def _on_dynamic_range(self, range_db: float) -> None:
        self.spectrogram.set_dynamic_range(range_db)
        self.context.settings.audio.spectrogram_dynamic_range_db = float(range_db)

    def _on_io_failed(self, exc: BaseException) -> None:
        self.show_message(str(exc) if isinstance(exc, StethoscanError) else
                          f"That did not work ({type(exc).__name__}: {exc}). Details are in the log.")

    # -- messages and state -----------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _update_actions(self) -> None:
        has_take = self.take is not None
        has_span = self.selection.span() is not None
        for button in (self.export_button, self.play_button, self.all_button):
            button.setEnabled(has_take)
        self.play_selection_button.setEnabled(has_take and has_span)
        self.zoom_button.setEnabled(has_take and has_span)
        self.stop_button.setEnabled(self.playback.is_playing)

    def shutdown(self) -> None:
        """Stop playback (closing the audio stream) and cancel this view's jobs."""
        self.playback.close()
        self.analysis.cancel()
        for job in (self.load_job, self.spectrogram_job, self.io_job):
            if job is not None and job.is_running:
                job.cancel()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.playback.stop()
        super().hideEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    return button
