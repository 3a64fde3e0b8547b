"""Importing audio files as takes and exporting a take, for the audio review view.

A mixin of :class:`stethoscan.gui.studio.audio_review.AudioReviewView`: its methods use the
view's ``context``, ``take``, ``io_job`` and ``show_message``. Files are read and written in the
io worker pool.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from stethoscan.core.errors import StethoscanError
from stethoscan.gui.studio.audio_import import IMPORT_FILTER, import_audio_file


class TakeImportExport:
    """Import a WAV, FLAC, OGG or MP3 file as a take; export the open take as WAV or FLAC."""

    # -- import and export --------------------------------------------------------------------
    def choose_import(self) -> None:
        start = self.context.settings.last_open_dir or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Import an audio file", start, IMPORT_FILTER)
        if path:
            self.context.settings.last_open_dir = str(Path(path).parent)
            self.import_file(path)

    def import_file(self, path: str | Path):
        """Import ``path`` as a take of the current session and open it; return the job."""
        try:
            session_id = self.context.ensure_session()
        except StethoscanError as exc:
            self.show_message(str(exc))
            return None
        self.io_job = self.context.workers.submit(f"Importing {Path(path).name}", import_audio_file,
                                                  self.context.store, session_id, str(path))
        self.io_job.finished.connect(self._on_imported)
        self.io_job.failed.connect(self._on_io_failed)
        return self.io_job

    def _on_imported(self, recording_id: int) -> None:
        recording = self.context.store.get_recording(recording_id)
        self.context.recordings_changed.emit()
        self.context.select_recording(recording)
        self.context.status_message.emit("Audio file imported as a take of this session")
        warnings = (getattr(recording, "quality", None) or {}).get("import_warnings") or []
        if warnings:
            self.show_message(" ".join(warnings))

    def choose_export(self, fmt: str) -> None:
        if self.take is None:
            return
        start = Path(self.context.settings.last_open_dir or Path.home())
        suffix = fmt.lower()
        path, _ = QFileDialog.getSaveFileName(self, f"Export as {fmt}", str(start / f"take.{suffix}"),
                                              f"{fmt} files (*.{suffix})")
        if path:
            self.export_to(path if path.lower().endswith(f".{suffix}") else f"{path}.{suffix}", fmt)

    def export_to(self, path: str | Path, fmt: str):
        """Write the open take to ``path`` as WAV or FLAC in the io pool; return the job."""
        from stethoscan.audio.audio_files import export_audio

        if self.take is None:
            return None
        self.io_job = self.context.workers.submit(f"Exporting {Path(path).name}", _export_job,
                                                  export_audio, self.take.clip, str(path), fmt)
        self.io_job.finished.connect(self._on_exported)
        self.io_job.failed.connect(self._on_io_failed)
        return self.io_job

    def _on_exported(self, path) -> None:
        self.context.status_message.emit(f"Saved {Path(path).name}")


def _export_job(export_audio, clip, path: str, fmt: str, task=None):
    return export_audio(clip, path, format=fmt)
