"""The log-mel image's left axis is labelled in Hz (mel band centres), not band numbers; other
views get their automatic ticks back."""

from __future__ import annotations

import librosa
import pytest

from stethoscan.audio.analysis.features import features_for_segments
from stethoscan.audio.analysis.synthetic_sounds import synth_breathing
from stethoscan.gui.studio.feature_plots import FeatureView, mel_band_ticks


def test_mel_band_ticks_are_band_centres_in_hz():
    ticks = mel_band_ticks(40, 4000.0)
    centres = librosa.mel_frequencies(42, fmin=0.0, fmax=2000.0)[1:-1]
    assert ticks[0] == (0.5, f"{centres[0]:.0f}") and ticks[-1] == (39.5, f"{centres[39]:.0f}")
    assert 1800 < float(ticks[-1][1]) < 2000  # the top band sits just under half the rate


def test_log_mel_view_shows_hz_and_mfcc_view_does_not(qtbot):
    x, cycles, _ = synth_breathing(10.0, 4000, seed=3)
    features = features_for_segments(x, 4000, [(s, e, "cycle") for s, e in cycles[:2]])
    view = FeatureView()
    qtbot.addWidget(view)
    view.set_features(features, (x, 4000.0))
    view.view_combo.setCurrentText("Log-mel spectrogram")
    axis = view.plot.getAxis("left")
    n_mels = features[0].log_mel_db.shape[0]
    assert axis._tickLevels == [mel_band_ticks(n_mels, 4000.0)]
    assert axis.labelText == "Mel band centre (Hz)"
    view.view_combo.setCurrentText("MFCC")
    assert axis._tickLevels is None and axis.labelText == "Coefficient"
    view.view_combo.setCurrentText("Log-mel spectrogram")
    assert float(axis._tickLevels[0][-1][1]) == pytest.approx(
        librosa.mel_frequencies(n_mels + 2, fmin=0.0, fmax=2000.0)[n_mels], abs=1)
