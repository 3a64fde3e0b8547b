"""The domain-gap statistics measure what they name: clicks, low-frequency swings, roll-off."""

from __future__ import annotations

import numpy as np

from stethoscan.training.respiratory_domain_gap import cycle_sound_statistics, summarise
from stethoscan.training.respiratory_features import PatchSpec
from stethoscan.training.respiratory_signal_pieces import butter_gain, shaped_noise

SPEC = PatchSpec()


def breath_like(rng: np.random.Generator, seconds: float = 3.0) -> np.ndarray:
    return 0.01 * shaped_noise(rng, int(seconds * SPEC.rate_hz), SPEC.rate_hz,
                               lambda f: butter_gain(f, 300.0, 1, False))  # fmt: skip


def test_clicks_count_as_transients_and_plain_breath_does_not():
    rng = np.random.default_rng(0)
    quiet = breath_like(rng)
    clicked = quiet.copy()
    for t in (0.4, 1.1, 1.9, 2.6):  # four 2 ms broadband clicks, 30 dB above the breath
        start = int(t * SPEC.rate_hz)
        clicked[start : start + 8] += 0.3 * rng.standard_normal(8)
    assert cycle_sound_statistics(quiet, SPEC)["transients_per_s"] < 0.5
    assert 1.0 <= cycle_sound_statistics(clicked, SPEC)["transients_per_s"] <= 1.7  # 4 in 3 s


def test_low_frequency_bursts_swing_the_low_band_and_roll_off_shows():
    rng = np.random.default_rng(1)
    base = breath_like(rng)
    thumps = base.copy()
    t = np.arange(int(0.1 * SPEC.rate_hz)) / SPEC.rate_hz
    for beat in np.arange(0.2, 2.8, 0.8):  # heart-sound-like 60 Hz thumps
        start = int(beat * SPEC.rate_hz)
        thumps[start : start + t.size] += 0.2 * np.sin(2 * np.pi * 60 * t) * np.exp(-t / 0.03)
    a, b = cycle_sound_statistics(base, SPEC), cycle_sound_statistics(thumps, SPEC)
    assert b["spread_db_below_150"] > a["spread_db_below_150"] + 6.0
    assert abs(b["spread_db_above_500"] - a["spread_db_above_500"]) < 3.0
    steep = 0.01 * shaped_noise(rng, base.size, SPEC.rate_hz, lambda f: butter_gain(f, 100.0, 3, False))
    assert cycle_sound_statistics(steep, SPEC)["low_minus_high_db"] > a["low_minus_high_db"] + 10.0
    summary = summarise([a, b])
    assert summary["spread_db_below_150"]["q25"] <= summary["spread_db_below_150"]["median"]


def test_report_sets_real_normal_cycles_beside_synthetic_ones(shared_data):
    from stethoscan.training.respiratory_domain_gap import domain_gap_report

    report = domain_gap_report(shared_data / "icbhi-sample", n_synthetic=40, seed=3)
    assert report["real normal"]["cycles"] == 26 and report["real wheeze"]["cycles"] == 4
    assert sum(v["cycles"] for k, v in report.items() if k.startswith("synthetic")) == 40
    # what this module was written to show: these real chest recordings are full of clicks
    assert report["real normal"]["transients_per_s"]["median"] > 1.0
    assert all(np.isfinite(v["median"]) for group in report.values() for k, v in group.items() if k != "cycles")
