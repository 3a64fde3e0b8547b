"""Shared helpers for the analysis tests: Praat (parselmouth, GPL) is used here only, as the oracle."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def praat():
    """Praat's own figures for the same samples (F0 mean, jitter, shimmer, HNR)."""
    parselmouth = pytest.importorskip("parselmouth", reason="praat-parselmouth (dev extra) missing")
    from parselmouth.praat import call

    def measure(samples: np.ndarray, rate_hz: float) -> dict[str, float]:
        snd = parselmouth.Sound(np.asarray(samples, dtype=np.float64), rate_hz)
        pitch = snd.to_pitch_ac()
        pulses = call([snd, pitch], "To PointProcess (cc)")
        return {
            "f0_mean": call(pitch, "Get mean", 0, 0, "Hertz"),
            "jitter_local": 100 * call(pulses, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3),
            "jitter_ppq5": 100 * call(pulses, "Get jitter (ppq5)", 0, 0, 0.0001, 0.02, 1.3),
            "shimmer_local": 100 * call([snd, pulses], "Get shimmer (local)", 0, 0, 0.0001, 0.02,
                                        1.3, 1.6),
            "shimmer_apq11": 100 * call([snd, pulses], "Get shimmer (apq11)", 0, 0, 0.0001, 0.02,
                                        1.3, 1.6),
            "hnr": call(snd.to_harmonicity_cc(0.01, 75, 0.1, 1.0), "Get mean", 0, 0),
        }

    return measure
