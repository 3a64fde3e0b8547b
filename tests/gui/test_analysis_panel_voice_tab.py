"""The analysis panel greys out the Voice report tab after a breath or cough analysis (it was an
empty table with column headers only) and enables it again for a voice take."""

from __future__ import annotations

import numpy as np

from stethoscan.audio.analysis.synthetic_sounds import synth_coughs, synth_vowel
from stethoscan.audio.clip import AudioClip
from stethoscan.gui.studio.analysis_panel import AnalysisPanel
from stethoscan.gui.studio.playback import Playback


def _analyse(panel, qtbot, samples, rate_hz, kind):
    panel.set_clip(AudioClip(np.asarray(samples, np.float32)[:, None], rate_hz, "synthetic"))
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData(kind))
    panel.run()
    qtbot.waitUntil(lambda: panel.result is not None and not panel.is_running, timeout=60000)


def test_voice_tab_is_disabled_without_a_voice_report(make_context, qtbot):
    panel = AnalysisPanel(make_context(), Playback())  # the preprocessing tab's listen buttons
    qtbot.addWidget(panel)
    assert panel.tabs.isTabEnabled(0)  # before any analysis
    coughs, _ = synth_coughs(3, 16000, seed=7)
    _analyse(panel, qtbot, coughs, 16000, "cough")
    assert not panel.tabs.isTabEnabled(0) and panel.voice_table.rowCount() == 0
    assert "applies to voice recordings" in panel.tabs.tabToolTip(0)
    assert panel.tabs.currentIndex() != 0
    _analyse(panel, qtbot, synth_vowel(2.0, 16000, 150.0, 0.01, 0.04, seed=5), 16000, "voice")
    assert panel.tabs.isTabEnabled(0) and panel.voice_table.rowCount() > 10
    assert panel.tabs.tabToolTip(0) == ""
