"""The synthetic chest recordings follow the acoustic definitions they claim, reproducibly."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.training import respiratory_synthesis as syn
from stethoscan.training.respiratory_features import PatchSpec, cycle_patches, event_mask


def test_same_seed_same_recordings_other_seed_differs():
    a = [r.samples for r in syn.synthesize_corpus(12, seed=5)]
    b = [r.samples for r in syn.synthesize_corpus(12, seed=5)]
    c = [r.samples for r in syn.synthesize_corpus(12, seed=6)]
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0][: c[0].size], c[0][: a[0].size])
    assert sum(len(r.cycles) for r in syn.synthesize_corpus(12, seed=5)) == 12


def dominant_hz(wave: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(wave.size)))
    return float(np.fft.rfftfreq(wave.size, 1 / rate)[np.argmax(spectrum)])


def test_wheezes_are_musical_above_100_hz_and_longer_than_100_ms():
    rng = np.random.default_rng(1)
    for _ in range(30):
        duration = syn.loguniform(rng, 0.1, 1.5)
        wave, low, high = syn.wheeze_waveform(rng, duration, 8000)
        assert wave.size / 8000 >= 0.1
        assert dominant_hz(wave, 8000) > 100.0 * 0.75  # fundamental >= 100 Hz, minus glide
        assert low < dominant_hz(wave, 8000) < high
        # musical: in any 64 ms frame, a tenth of the bins hold most energy (noise: ~30 %)
        middle = wave.size // 2
        frame = wave[middle - 256 : middle + 256] * np.hanning(512)
        spectrum = np.abs(np.fft.rfft(frame)) ** 2
        assert np.sort(spectrum)[::-1][: spectrum.size // 10].sum() > 0.8 * spectrum.sum()


def first_zero_crossing_s(wave: np.ndarray, rate: int) -> float:
    sign = np.signbit(wave[1:])
    return float(np.flatnonzero(sign != sign[0])[0] + 1) / rate


@pytest.mark.parametrize(("idw", "two_cd"), [(0.6e-3, 5e-3), (1.5e-3, 14e-3)])
def test_crackles_are_short_transients_with_the_asked_deflection_width(idw, two_cd):
    rate = 48000  # fine enough to measure a 0.6 ms deflection
    wave, duration, low, high = syn.crackle_waveform(np.random.default_rng(0), idw, two_cd, rate)
    assert duration <= 0.02 and wave.size / rate <= 0.02
    assert first_zero_crossing_s(wave, rate) == pytest.approx(idw, rel=0.15)
    assert np.argmax(np.abs(wave)) / rate < idw  # the initial deflection is the largest
    assert low < high


def test_recording_labels_events_and_breathing_pattern():
    rng = np.random.default_rng(3)
    expiratory, total = 0, 0
    for _ in range(12):
        labels = syn.draw_labels(rng, 5)
        rec = syn.synthesize_recording(rng, labels)
        assert [c.label for c in rec.cycles] == labels
        assert np.abs(rec.samples).max() <= 1.0 and rec.samples.dtype == np.float32
        durations = np.array([c.end_s - c.start_s for c in rec.cycles])
        assert np.all((durations > 60 / 46) & (durations < 60 / 8))  # 10-40 /min, +-12 %
        for cycle in rec.cycles:
            kinds = {e.kind for e in cycle.events}
            assert ("wheeze" in kinds) == cycle.wheezes
            assert bool(kinds - {"wheeze"}) == cycle.crackles
            for event in cycle.events:
                assert cycle.start_s <= event.start_s < event.end_s <= cycle.end_s + 1e-6
                if event.kind == "wheeze":
                    total += 1
                    expiratory += event.start_s >= cycle.inspiration_end_s
                elif event.kind == "fine_crackle":
                    assert event.start_s >= cycle.start_s + 0.45 * (cycle.inspiration_end_s - cycle.start_s) - 1e-3
    assert total >= 10 and expiratory / total > 0.5  # mostly expiratory


def test_event_boxes_mark_where_the_energy_is():
    """Inside a wheeze box the patch is louder than elsewhere in the same patch."""
    rng = np.random.default_rng(7)
    spec = PatchSpec()
    inside, outside = [], []
    for _ in range(6):
        rec = syn.synthesize_recording(rng, ["wheeze"], rate_hz=4000)
        cycle = rec.cycles[0]
        cp = cycle_patches(rec.samples, cycle.start_s, cycle.end_s, spec)
        events = [syn.SoundEvent(e.kind, e.start_s - cycle.start_s, e.end_s - cycle.start_s,
                                 e.low_hz, e.high_hz) for e in cycle.events]  # fmt: skip
        patch = cp.patches[0]
        mask = event_mask(events, cp.offsets_s[0], cp.cycle_duration_s, spec)
        if mask.any():
            inside.append(patch[mask].mean())
            outside.append(patch[~mask].mean())
    assert len(inside) >= 4
    assert np.mean(inside) > np.mean(outside)
