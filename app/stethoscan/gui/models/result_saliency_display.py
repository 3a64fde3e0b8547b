"""The saliency map of the shown result: on the recording's spectrogram or sent to the scan viewer.

A mixin of :class:`stethoscan.gui.models.results_panel.ResultsPanel`: its methods use the panel's
``context``, ``shown``, ``spectrogram`` and overlay controls (toggle, opacity, colour map). A
volume's map goes to the scan viewer through ``context.scan_overlay_changed`` (all three planes).
"""

from __future__ import annotations

from typing import Any

from stethoscan.gui.models.scan_saliency import map_on_volume_grid

OVERLAY_NAME = "saliency"
COLOURMAPS = (("Inferno", "inferno"), ("Heat", "CET-L3"), ("Turbo", "turbo"),
              ("Viridis", "viridis"), ("Plasma", "plasma"))  # fmt: skip
METHOD_TITLES = {"gradcam": "Grad-CAM", "ig": "Integrated Gradients", "occlusion": "Occlusion"}


class ResultSaliencyDisplay:
    """The audio result's spectrogram with its map, and the scan overlay of a volume's map."""

    # -- the spectrogram (audio results) ---------------------------------------------------------
    def _ensure_spectrogram(self) -> None:
        if self.spectrogram is None:
            from stethoscan.gui.models.spectrogram_saliency import SpectrogramSaliencyView

            self.spectrogram = SpectrogramSaliencyView()
            self.spectrogram_slot.addWidget(self.spectrogram)
            self._on_overlay_controls()

    def _start_background(self, p: Any) -> None:
        from stethoscan.gui.models.spectrogram_saliency import recording_log_mel

        path = self.shown.input.get("recording_path") if self.shown else None
        if not path:
            return
        job = self.context.workers.submit("Computing the spectrogram", recording_log_mel, path, p.model_name)
        shown = self.shown
        job.finished.connect(lambda result: self._on_background(shown, result))
        job.failed.connect(lambda _exc: self._note("The recording's spectrogram could not be "
                                                   "computed; the map is shown alone."))  # fmt: skip
        self.spectrogram_job = job

    def _on_background(self, shown: Any, result: dict[str, Any]) -> None:
        if shown is self.shown and self.spectrogram is not None:
            self.spectrogram.set_background(result["db"], result["times_s"])

    # -- overlays --------------------------------------------------------------------------------
    def _on_overlay_controls(self) -> None:
        opacity = self.opacity_slider.value() / 100.0
        if self.spectrogram is not None:
            self.spectrogram.set_colormap(self.colormap_combo.currentData())
            self.spectrogram.set_opacity(opacity)
            self.spectrogram.set_overlay_visible(self.overlay_box.isChecked())
        self._overlay_timer.start()  # the volume overlay: coalesce slider drags

    def overlay_spec(self) -> dict[str, Any] | None:
        """The scan overlay for the shown result on the open volume, or None (with a note why)."""
        p = self.shown.prediction if self.shown else None
        if p is None or p.saliency is None or p.saliency_space not in ("volume", "image"):
            return None
        series_uid = getattr(self.context.series, "series_uid", None)
        data, why = map_on_volume_grid(p, self.shown.input, self.context.volume, series_uid)
        if data is None:
            self._note(why)
            return None
        method = METHOD_TITLES.get(p.saliency_method or "", p.saliency_method or "map")
        return {"data": data, "kind": "heatmap", "colormap": self.colormap_combo.currentData(),
                "opacity": self.opacity_slider.value() / 100.0,
                "label": f"{method} ({p.top_label})"}  # fmt: skip

    def apply_overlay(self) -> None:
        """Send the shown result's map to the scan viewer, or remove it."""
        p = self.shown.prediction if self.shown else None
        if p is None or p.saliency_space == "spectrogram":
            return
        spec = self.overlay_spec() if self.overlay_box.isChecked() else None
        if spec is not None:
            self.overlay_note.setVisible(False)
        self.context.scan_overlay_changed.emit(OVERLAY_NAME, spec)
        self.overlay_emitted.emit(OVERLAY_NAME, spec)

    def _note(self, text: str) -> None:
        self.overlay_note.setText(text)
        self.overlay_note.setVisible(True)
