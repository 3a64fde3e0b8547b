"""What the respiratory model is run on: never a muted input's noise; silent lead-in left out."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.audio.clip import AudioClip
from stethoscan.core.errors import AudioError


def test_a_muted_input_is_refused_not_classified():
    """-90 dBFS noise (an unplugged stethoscope) used to get "Top: both (50 %)"."""
    from stethoscan.workflows.respiratory_prediction import run

    noise = np.random.default_rng(0).normal(0, 10 ** (-90 / 20), 8 * 4000).astype(np.float32)
    with pytest.raises(AudioError, match="no usable sound.*plugged in"):
        run("respiratory-cycles", AudioClip(noise[:, None], 4000), {"saliency": "none"})


@pytest.mark.real_data
def test_silent_lead_in_does_not_hide_the_cycles(shared_data):
    """3 s of digital silence before a real recording: the cycles are still found (they were
    not, and the model ran on fixed windows), on the take's own time axis."""
    from stethoscan.audio.audio_files import read_audio
    from stethoscan.workflows.respiratory_prediction import automatic_cycles

    clip = read_audio(shared_data / "icbhi-sample" / "104_1b1_Al_sc_Litt3200.wav")
    mono = clip.mono()
    plain = automatic_cycles(mono, clip.rate_hz)
    padded = automatic_cycles(np.r_[np.zeros(3 * clip.rate_hz, np.float32), mono], clip.rate_hz)
    assert len(plain) >= 3 and len(padded) == len(plain)
    assert [a for a, _ in padded] == pytest.approx([a + 3.0 for a, _ in plain], abs=0.05)
