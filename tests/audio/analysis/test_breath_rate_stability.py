"""The breathing rate's stability check: an inaudible change that moves the rate is reported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stethoscan.audio.analysis.breath_rate_stability import (
    PERTURB_DB,
    perturbed_rates,
    rate_range,
    unstable_note,
)


def test_perturbed_copies_are_faint_reproducible_and_ranged():
    x = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    seen = []

    def rate_of(samples):
        seen.append(samples)
        return float(len(seen))

    assert perturbed_rates(x, rate_of, n=3) == [1.0, 2.0, 3.0]
    for copy in seen:  # noise PERTURB_DB below the RMS: -60 dB
        level = 20 * np.log10(np.std(copy - x) / np.std(x))
        assert level == pytest.approx(PERTURB_DB, abs=0.5)
    again = []
    perturbed_rates(x, lambda s: again.append(s) or 0.0, n=3)
    assert all(np.array_equal(a, b) for a, b in zip(seen, again, strict=True))
    assert rate_range(20.0, [19.0, 24.5, float("nan")]) == (19.0, 24.5)
    assert rate_range(None, [float("nan")]) is None
    assert unstable_note((20.0, 22.9)) is None
    note = unstable_note((20.1, 39.3))
    assert "between 20.1 and 39.3 breaths/min" in note and "press B" in note


@pytest.mark.real_data
def test_analyze_reports_the_range_and_says_when_it_is_wide(shared_data, capsys):
    """On every real recording the range holds the rate; a note (and the text line) appear
    exactly when the range is wider than 3 breaths/min."""
    from stethoscan.cli import main

    for wav in sorted((shared_data / "icbhi-sample").glob("*.wav")):
        assert main(["analyze", str(wav), "--task", "breath", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        low, high = result["breathing_rate_range_bpm"]
        assert low <= result["breathing_rate_bpm"] <= high
        noted = any("automatic rate is uncertain" in n for n in result["notes"])
        assert noted == (high - low > 3.0), wav.name
        assert main(["analyze", str(wav), "--task", "breath"]) == 0
        assert ("uncertain:" in capsys.readouterr().out) == noted
