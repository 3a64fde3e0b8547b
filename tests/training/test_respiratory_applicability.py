"""The respiratory model's applicability check: is a recording like the training sounds?"""

from __future__ import annotations

import json

import numpy as np
import pytest

from stethoscan.audio.clip import AudioClip
from stethoscan.training.respiratory_applicability import (
    REFERENCE_FILE,
    check_recording,
    read_reference,
    reference_from_cycles,
)


def _rows(clicks, swing_low=12.0):
    return [{"transients_per_s": c, "spread_db_below_150": swing_low, "spread_db_150_500": 12.0,
             "spread_db_above_500": 10.0, "low_minus_high_db": 20.0} for c in clicks]  # fmt: skip


def test_reference_holds_the_training_range_and_a_recording_outside_it_is_named():
    reference = reference_from_cycles(_rows(np.linspace(0.0, 1.0, 101)))
    clicks = reference["statistics"]["transients_per_s"]
    assert clicks["low"] == pytest.approx(0.01) and clicks["high"] == pytest.approx(0.99)
    assert reference["cycles"] == 101

    inside = check_recording(_rows([0.2, 0.5, 0.9]), reference)
    assert inside.checked and inside.warning is None and not inside.outside

    # The median over the recording's cycles is compared: one odd cycle does not flag it ...
    assert check_recording(_rows([0.2, 0.5, 3.0]), reference).warning is None
    # ... a recording full of clicks (2.5 /s) does, with its value, the range and the unit.
    odd = check_recording(_rows([2.4, 2.5, 2.7]), reference)
    assert [o["key"] for o in odd.outside] == ["transients_per_s"]
    assert "2.5/s (98 % of training cycles: 0.0 to 1.0/s)" in odd.warning
    assert odd.warning.startswith("This recording is unlike the model's training data: its calls on it "
                                  "may be wrong; listen to the cycles yourself. What differs (median "
                                  "of its 3 cycles): broadband clicks")  # fmt: skip
    loud_heart = check_recording(_rows([0.5] * 4, swing_low=23.0), reference)
    assert "level swing below 150 Hz (heart sounds) 23.0 dB (98 % of training cycles: 12.0 to 12.0 dB)" in loud_heart.warning


def test_without_a_reference_or_cycles_nothing_is_claimed():
    none = check_recording(_rows([0.5]), None)
    assert not none.checked and none.warning is None and "no reference" in none.note
    empty = check_recording([], reference_from_cycles(_rows([0.1, 0.2])))
    assert not empty.checked and empty.warning is None and "No breathing cycle" in empty.note
    assert none.to_dict()["note"] == none.note


def test_read_reference_tolerates_missing_or_broken_files(tmp_path):
    assert read_reference(tmp_path) is None and read_reference(None) is None
    (tmp_path / REFERENCE_FILE).write_text("{not json")
    assert read_reference(tmp_path) is None
    (tmp_path / REFERENCE_FILE).write_text(json.dumps(reference_from_cycles(_rows([0.1, 0.3]))))
    assert read_reference(tmp_path)["statistics"]["transients_per_s"]["high"] == pytest.approx(0.298)


@pytest.fixture(scope="module")
def bundled():
    from stethoscan.inference.runtime import load_model

    model = load_model("respiratory-cycles")
    if read_reference(model.package.path) is None:
        pytest.fail("the bundled respiratory package has no training_sound_statistics.json: "
                    "rebuild it with the command in its card")  # fmt: skip
    return model


def test_held_out_synthetic_recordings_are_seldom_flagged(bundled):
    """Recordings made like the training data (another seed) pass the check: it is not a
    warning that fires on everything."""
    from stethoscan.training.icbhi_dataset import synthetic_recordings
    from stethoscan.workflows.respiratory_prediction import recording_applicability

    recordings = synthetic_recordings(800, seed=2027)  # 150 recordings (7 flagged when written)
    flagged = 0
    for rec in recordings:
        raw, rate = rec.audio()
        clip = AudioClip(np.asarray(raw, dtype=np.float32)[:, None], rate)
        cycles = [{"start_s": c.start_s, "end_s": c.end_s} for c in rec.cycles]
        check = recording_applicability(clip, cycles, bundled)
        assert check.checked and check.cycles == len(cycles)
        flagged += check.warning is not None
    assert len(recordings) >= 100 and flagged / len(recordings) <= 0.1, (flagged, len(recordings))


@pytest.mark.real_data
def test_a_real_recording_with_loud_heart_sounds_is_flagged(bundled, shared_data):
    """101 (Meditron, a 3-year-old): its heart sounds swing the band below 150 Hz about twice as
    far as the synthetic heart sounds do (helper diagnosis, respiratory_domain_gap); the model
    calls its normal cycles crackles, and the check says the recording is unlike its training."""
    from stethoscan.audio.audio_files import read_audio
    from stethoscan.workflows.respiratory_prediction import run

    prediction = run(bundled, read_audio(shared_data / "icbhi-sample" / "101_1b1_Al_sc_Meditron.wav"),
                     {"saliency": "none"})  # fmt: skip
    check = prediction.details["applicability"]
    assert check["checked"] and "spread_db_below_150" in [o["key"] for o in check["outside"]]
    assert any("unlike the model's training data" in w and "heart sounds" in w for w in prediction.warnings)


def test_a_range_below_zero_reads_unambiguously_and_windows_are_not_called_cycles():
    rows = [{**r, "low_minus_high_db": v} for r, v in zip(_rows([0.5] * 3), (-9.0, -8.0, -7.0), strict=True)]
    reference = reference_from_cycles(rows)
    check = check_recording([{**r, "low_minus_high_db": 4.0} for r in _rows([0.5] * 2)], reference, "windows")
    assert "4.0 dB (98 % of training cycles: -9.0 to -7.0 dB)" in check.warning
    assert "median of its 2 windows" in check.warning


def test_a_band_at_the_spectrograms_floor_is_named_even_when_the_statistics_are_in_range():
    from stethoscan.training.respiratory_applicability import floor_shares

    reference = reference_from_cycles(_rows(np.linspace(0.0, 1.0, 101)))
    centres = np.array([100.0, 300.0, 800.0, 1500.0])
    loud, quiet = np.full((4, 50), -40.0), np.full((4, 50), -40.0)
    quiet[2:, :20] = -100.0  # 40 % of the band above 500 Hz at the floor
    shares = floor_shares([loud, quiet], centres)
    assert shares == {"below 150 Hz": 0.0, "at 150-500 Hz": 0.0, "above 500 Hz": pytest.approx(0.2)}
    check = check_recording(_rows([0.5] * 2), reference, quiet=shares)
    assert [o["key"] for o in check.outside] == ["floor_share"]
    assert "so quiet above 500 Hz that 20% of it lies at the floor of the model's spectrogram" in check.warning
    assert check_recording(_rows([0.5] * 2), reference, quiet=floor_shares([loud], centres)).warning is None


@pytest.mark.real_data
def test_a_real_recording_turned_down_is_flagged_as_too_quiet(bundled, shared_data):
    """103 passes at its own level; turned down by 30 dB its statistics still fall in range
    (the spectrogram's floor squeezes them) but half its band above 500 Hz is at the floor."""
    from stethoscan.audio.audio_files import read_audio
    from stethoscan.workflows.respiratory_prediction import (
        automatic_cycles,
        recording_applicability,
    )

    clip = read_audio(shared_data / "icbhi-sample" / "103_2b2_Ar_mc_LittC2SE.wav")
    cycles = [{"start_s": a, "end_s": b} for a, b in automatic_cycles(clip.mono(), clip.rate_hz)]
    assert recording_applicability(clip, cycles, bundled).warning is None
    quiet = AudioClip((clip.mono() * 10 ** (-30 / 20))[:, None].astype(np.float32), clip.rate_hz)
    check = recording_applicability(quiet, cycles, bundled)
    assert [o["band"] for o in check.outside if o["key"] == "floor_share"] == ["above 500 Hz"]
    assert "so quiet above 500 Hz" in check.warning and "more recording gain may help" in check.warning
