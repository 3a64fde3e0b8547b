"""A cough analysis that counts no cough says why (what was heard and why it is not a cough, or
that nothing stood out) and what to do, instead of a bare "Cough count: 0"."""

from __future__ import annotations

import numpy as np

from stethoscan.audio.analysis.pipeline import analyze_recording
from stethoscan.audio.analysis.synthetic_sounds import synth_coughs, synth_vowel
from stethoscan.audio.clip import AudioClip

RATE = 16000


def _analyse(x: np.ndarray):
    return analyze_recording(AudioClip(np.asarray(x, np.float32)[:, None], RATE), "cough")


def test_spoken_vowels_are_not_coughs_and_the_note_says_why():
    gap = np.zeros(int(0.6 * RATE))
    vowels = [synth_vowel(0.5, RATE, 130.0, 0.01, 0.04, seed=s) for s in range(3)]
    result = _analyse(np.concatenate([gap] + [v for vowel in vowels for v in (vowel, gap)]))
    assert result.cough_count == 0
    [note] = result.notes
    assert note.startswith("No coughs were found: 3 sound(s) were not counted as coughs (3 not broadband;")
    assert "Ask for 3-5 single, forceful coughs" in note


def test_steady_noise_alone_says_nothing_stood_out():
    noise = np.random.default_rng(3).normal(0.0, 0.01, 4 * RATE)
    [note] = _analyse(noise).notes
    assert note.startswith("No coughs were found (no sound stood out from the background).")


def test_counted_coughs_get_no_no_cough_advice():
    coughs, _ = synth_coughs(4, RATE, seed=7)
    result = _analyse(coughs)
    assert result.cough_count == 4
    assert not any("No coughs were found" in n for n in result.notes)
