"""Selection, zoom, playback and markers of the audio review view.

A mixin of :class:`stethoscan.gui.studio.audio_review.AudioReviewView`: its methods use the
view's ``take``, ``selection``, ``waveform``, ``playback``, ``markers`` and ``marker_panel``.
"""

from __future__ import annotations

from stethoscan.core.errors import StethoscanError
from stethoscan.gui.studio.markers import ReviewMarker, proposals_from_segments
from stethoscan.gui.studio.review_plot_style import label_colour

BREATH_MARK_S = 0.4  # length of a tapped inspiration marker


class ReviewPlaybackAndMarkers:
    """Cursor, selection and zoom; playback of the take or the selection; markers and proposals."""

    # -- selection, cursor, zoom ----------------------------------------------------------------
    def _on_time_clicked(self, t: float) -> None:
        self.selection.clear()
        self.selection.set_cursor(t)

    def _on_selection_changed(self) -> None:
        self.marker_panel.set_selection_available(self.selection.span() is not None)
        self._update_position_label()
        self._update_actions()

    def _update_position_label(self) -> None:
        parts = [f"Cursor {self.selection.cursor_s:.3f} s"]
        span = self.selection.span()
        if span is not None:
            parts.append(f"Selection {span[0]:.3f}–{span[1]:.3f} s ({span[1] - span[0]:.3f} s)")
        self.position_label.setText("   ".join(parts))

    def zoom_to_selection(self) -> None:
        span = self.selection.span()
        if span is not None:
            self.waveform.set_time_range(*span)

    def show_all(self) -> None:
        if self.take is not None:
            self.waveform.set_time_range(0.0, self.take.clip.duration_s)

    # -- playback -----------------------------------------------------------------------------
    def play(self) -> bool:
        if self.take is None:
            return False
        start = self.selection.cursor_s if self.selection.cursor_s < self.take.clip.duration_s - 0.01 else 0.0
        return self.playback.play(self.take.clip.samples, self.take.clip.rate_hz, start_s=start)

    def play_selection(self) -> bool:
        span = self.selection.span()
        if self.take is None or span is None:
            return False
        return self.playback.play(self.take.clip.samples, self.take.clip.rate_hz, *span)

    def toggle_playback(self) -> None:
        if self.playback.is_playing:
            self.playback.stop()
        elif self.selection.span() is not None:
            self.play_selection()
        else:
            self.play()

    def _on_playback_position(self, t: float) -> None:
        self.selection.set_cursor(t)
        a, b = self.waveform.time_range()
        if self.playback.is_playing and not a <= t <= b:
            width = b - a
            self.waveform.set_time_range(max(t - 0.1 * width, 0.0), max(t - 0.1 * width, 0.0) + width)

    def _on_playback_state(self, playing: bool) -> None:
        self.show_message("") if playing else None
        self._update_actions()

    # -- markers ------------------------------------------------------------------------------
    def _add_marker_shortcut(self) -> None:
        self.add_marker(self.marker_panel.label_combo.currentText())

    def mark_breath(self) -> ReviewMarker | None:
        """Key B: an inspiration marker at the cursor (which follows playback), so a clinician can
        count the breaths they hear; the Analysis tab's rate from saved markers then counts them.
        The marker starts where the key was pressed (a listener's constant delay does not change
        the rate); drag its edges to adjust it."""
        if self.take is None:
            return None
        start = min(self.selection.cursor_s, max(self.take.clip.duration_s - BREATH_MARK_S, 0.0))
        marker = self.markers.add(start, start + BREATH_MARK_S, "inspiration")
        if marker is not None:
            self.show_message(f"Inspiration marked at {start:.2f} s. Press B at each breath you hear; "
                              "the rate from your markers is in the Analysis tab.")  # fmt: skip
        return marker

    def add_marker(self, label: str) -> ReviewMarker | None:
        span = self.selection.span()
        if span is None:
            self.show_message("Select a time span first: drag across the waveform or spectrogram.")
            return None
        marker = self.markers.add(span[0], span[1], label)
        if marker is not None:
            self.selection.clear()
        return marker

    def _update_marker_legend(self) -> None:
        labels = sorted({m.label for m in self.markers.markers})
        parts = [f"<span style='color:{label_colour(label).name()}'>■</span> {label}" for label in labels]
        if self.markers.proposals:
            parts.append("<span style='color:#8d96a0'>(dashed, ? = proposed)</span>")
        self.marker_legend.setText("&nbsp;&nbsp;".join(parts))

    def save_markers(self) -> bool:
        if self.recording is None:
            self.context.status_message.emit("Markers of a file that is not a saved take are not saved.")
            return False
        try:
            self.context.store.replace_markers(self.recording.id, self.markers.saved_rows())
        except StethoscanError as exc:
            self.show_message(str(exc))
            return False
        self.context.status_message.emit(f"{len(self.markers.saved)} markers saved")
        return True

    def _on_analysis(self, result) -> None:
        self.markers.propose(proposals_from_segments(result.segments))
        report = result.voice_report or {}
        self.spectrogram.set_pitch(report.get("pitch_times_s"), report.get("pitch_hz"))
