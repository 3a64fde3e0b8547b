"""Counting breaths by ear: key B marks an inspiration at the cursor, which follows playback.

Where the automatic rate is doubtful (104 Ll: about half the expert's), a clinician listens and
presses B at each breath; the markers are saved and the Analysis tab's rate from saved markers
counts them.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.real_data


@pytest.fixture
def context(make_context):
    return make_context("TAP-TEST", "Tap test")


def test_pressing_b_at_each_breath_gives_the_rate_of_the_taps(review_view, context, qtbot, shared_data):
    view = review_view
    wav = shared_data / "icbhi-sample" / "104_1b1_Ll_sc_Litt3200.wav"
    view.import_file(wav)
    qtbot.waitUntil(lambda: view.take is not None, timeout=20000)
    starts = np.loadtxt(wav.with_suffix(".txt"), ndmin=2)[:, 0]  # where an expert hears breaths
    view.setFocus()
    for start in starts:
        view.selection.set_cursor(float(start))  # as playback moves it
        qtbot.keyClick(view, Qt.Key.Key_B)
    saved = context.store.list_markers(view.recording.id)
    assert [m.label for m in saved] == ["inspiration"] * len(starts)
    assert [m.start_s for m in saved] == pytest.approx(list(starts), abs=1e-3)
    assert "Press B at each breath" in view.message.text() and f"{starts[-1]:.2f} s" in view.message.text()
    whole = [b - a for a, b in zip(starts[:-1], starts[1:], strict=True) if 1.0 <= b - a <= 10.0]
    expected = 60.0 * len(whole) / sum(whole)
    assert f"{expected:.1f} breaths/min over {len(whole)} cycles" in view.analysis.marker_figures.text()
    # the last breath near the end of the take still gets a whole marker inside the take
    view.selection.set_cursor(view.take.clip.duration_s)
    last = view.mark_breath()
    assert last is not None and last.end_s <= view.take.clip.duration_s + 1e-6


def test_an_uncertain_rate_is_shown_as_such(review_view, qtbot, shared_data):
    """Where inaudible changes move the automatic rate by more than 3 breaths/min, the figure
    says 'uncertain' with the range, and the note says to count by ear (press B)."""
    view = review_view
    view.import_file(shared_data / "icbhi-sample" / "104_1b1_Al_sc_Litt3200.wav")
    qtbot.waitUntil(lambda: view.take is not None, timeout=20000)
    panel = view.analysis
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("breath"))
    panel.run()
    qtbot.waitUntil(lambda: panel.result is not None and not panel.is_running, timeout=60000)
    low, high = panel.result.breathing_rate_range_bpm
    wide = high - low > 3.0
    assert (f"uncertain ({low:.0f}-{high:.0f})" in panel.summary.text()) == wide
    assert ("press B at each breath" in panel.notes.text()) == wide
