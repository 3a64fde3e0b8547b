"""Cough counts (breathing cycles and rate: test_breath_segmentation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.audio.analysis.cough_detection import detect_coughs
from stethoscan.audio.analysis.synthetic_sounds import synth_breathing, synth_coughs, synth_vowel


@pytest.mark.parametrize("recorded_like", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cough_count_on_synthetic_coughs(recorded_like, seed):
    n = 3 + seed
    x, events = synth_coughs(n, 16000, seed=seed, recorded_like=recorded_like)
    found = detect_coughs(x, 16000)
    assert found.count == n
    for (s, _end), ev in zip(events, found.events, strict=True):
        assert abs(ev.start_s - s) < 0.1
        assert 0.1 < ev.end_s - ev.start_s < 0.9


def test_voice_and_breathing_are_not_coughs():
    vowel = synth_vowel(2.0, 16000, seed=0)
    speechlike = np.concatenate([vowel[:4000], np.zeros(8000, np.float32), vowel[4000:9000]])
    assert detect_coughs(speechlike + 1e-3 * np.random.default_rng(0).standard_normal(
        speechlike.size).astype(np.float32), 16000).count == 0
    breath, _, _ = synth_breathing(10.0, 16000, seed=4)
    assert detect_coughs(breath, 16000).count == 0
