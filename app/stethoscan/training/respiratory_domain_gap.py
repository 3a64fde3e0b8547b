"""How real and synthetic breathing cycles differ, in figures a listener can check.

Per cycle, from the log-mel spectrogram the model sees (before patch normalisation):
broadband transient onsets per second (frames where the mean level of the bands above 300 Hz
jumps more than 6 dB above its 220 ms running median), the spread of each band region
(95th minus 50th percentile over time, dB: heart sounds and clicks swing it), and the median
level below 150 Hz minus that above 300 Hz (dB: the device's and chest wall's roll-off).
Used to diagnose the synthetic-to-real gap of the respiratory model (see the model card).
torch-free.
"""

from __future__ import annotations

import numpy as np

from stethoscan.training.respiratory_features import PatchSpec, log_mel_db

TRANSIENT_JUMP_DB = 6.0
TRANSIENT_MEDIAN_FRAMES = 11  # 220 ms at a 20 ms hop
REGIONS_HZ = {"below_150": (0.0, 150.0), "150_500": (150.0, 500.0), "above_500": (500.0, 1e9)}


def cycle_sound_statistics(samples: np.ndarray, spec: PatchSpec) -> dict[str, float]:
    """Statistics of one cycle (mono, at the model rate); see the module docstring."""
    from scipy.ndimage import median_filter

    mel = log_mel_db(np.asarray(samples, dtype=np.float32), spec)
    centres = spec.mel_frequencies_hz()
    high = mel[centres >= 300.0].mean(axis=0)
    jump = high - median_filter(high, size=TRANSIENT_MEDIAN_FRAMES, mode="nearest")
    above = jump > TRANSIENT_JUMP_DB
    onsets = int(np.sum(above[1:] & ~above[:-1]) + (above[0] if above.size else 0))
    out = {"transients_per_s": onsets / max(samples.size / spec.rate_hz, 1e-3)}
    spread = np.percentile(mel, 95, axis=1) - np.percentile(mel, 50, axis=1)
    for name, (low, high_hz) in REGIONS_HZ.items():
        rows = (centres >= low) & (centres < high_hz)
        out[f"spread_db_{name}"] = float(spread[rows].mean())
    out["low_minus_high_db"] = float(np.median(mel[centres < 150.0]) - np.median(mel[centres >= 300.0]))
    return out


def summarise(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Median and quartiles of each statistic over cycles."""
    if not rows:
        return {}
    return {key: {"median": float(np.median([r[key] for r in rows])),
                  "q25": float(np.percentile([r[key] for r in rows], 25)),
                  "q75": float(np.percentile([r[key] for r in rows], 75))}
            for key in rows[0]}  # fmt: skip


def domain_gap_report(real_folder, n_synthetic: int = 400, seed: int = 7) -> dict[str, dict]:
    """Cycle statistics of labelled real recordings (ICBHI layout or labelled folder) beside
    those of synthetic recordings, per label: ``{"real normal": summary, "synthetic crackle":
    summary, ...}``. Unreadable recordings are skipped (as in training)."""
    from pathlib import Path

    from stethoscan.core.errors import StethoscanError
    from stethoscan.training.icbhi_dataset import read_recordings, synthetic_recordings
    from stethoscan.training.respiratory_features import to_model_rate

    spec = PatchSpec()
    groups: dict[str, list[dict[str, float]]] = {}
    sources = (("real", read_recordings(Path(real_folder))), ("synthetic", synthetic_recordings(n_synthetic, seed)))
    for source, recordings in sources:
        for rec in recordings:
            try:
                raw, rate = rec.audio()
            except StethoscanError:
                continue
            x = to_model_rate(raw, rate, spec)
            for cycle in rec.cycles:
                a, b = int(cycle.start_s * spec.rate_hz), int(cycle.end_s * spec.rate_hz)
                if b - a >= int(0.2 * spec.rate_hz):
                    groups.setdefault(f"{source} {cycle.label}", []).append(cycle_sound_statistics(x[a:b], spec))
    return {name: {"cycles": len(rows), **summarise(rows)} for name, rows in sorted(groups.items())}
