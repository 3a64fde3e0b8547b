"""Voiced segments, pauses and speaking rate in speech.

Speaking rate counts syllable nuclei after de Jong & Wempe (2009), "Praat script to detect
syllable nuclei and measure speech rate automatically", Behav Res Methods 41: 385-390:
peaks of the intensity contour that stand out at least 2 dB from the dips around them, lie above
a threshold 25 dB below the loud end of the recording (99th percentile) and are voiced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stethoscan.audio.analysis.pitch_tracking import PitchTrack, pitch_ac

FRAME_S = 0.01
MIN_PAUSE_S = 0.25  # silences shorter than this are articulation, not pauses (Goldman-Eisler 1968)
SILENCE_BELOW_LOUD_DB = 25.0  # de Jong & Wempe 2009
MIN_DIP_DB = 2.0  # de Jong & Wempe 2009


@dataclass
class SpeechSegmentation:
    """Segments are ``(start_s, end_s, label)`` with labels ``voiced``, ``unvoiced``, ``pause``."""

    segments: list[tuple[float, float, str]] = field(default_factory=list)
    syllable_times_s: list[float] = field(default_factory=list)
    duration_s: float = 0.0
    phonation_s: float = 0.0
    voiced_fraction: float = 0.0
    pauses_s: list[float] = field(default_factory=list)

    @property
    def speaking_rate_syl_per_s(self) -> float:
        return len(self.syllable_times_s) / self.duration_s if self.duration_s else float("nan")

    @property
    def articulation_rate_syl_per_s(self) -> float:
        return len(self.syllable_times_s) / self.phonation_s if self.phonation_s else float("nan")


def intensity_db(samples: np.ndarray, rate_hz: float, frame_s: float = FRAME_S,
                 window_s: float = 0.064) -> tuple[np.ndarray, np.ndarray]:
    """Frame centres (s) and Hann-weighted intensity (dB re full scale) every ``frame_s``."""
    x = np.asarray(samples, dtype=float)
    n_win = max(int(round(window_s * rate_hz)), 8)
    hop = max(int(round(frame_s * rate_hz)), 1)
    padded = np.pad(x, n_win // 2)
    n_frames = max(1 + (padded.size - n_win) // hop, 0)
    idx = np.arange(n_frames)[:, None] * hop + np.arange(n_win)
    w = np.hanning(n_win)
    power = np.sum((padded[idx] * w) ** 2, axis=1) / np.sum(w * w)
    return np.arange(n_frames) * hop / rate_hz, 10.0 * np.log10(power + 1e-12)


def syllable_nuclei(times: np.ndarray, level_db: np.ndarray, threshold_db: float,
                    pitch: PitchTrack) -> list[float]:
    """Times (s) of intensity peaks with a >= 2 dB dip on both sides, above threshold, voiced."""
    if level_db.size < 3:
        return []
    is_peak = (level_db[1:-1] > level_db[:-2]) & (level_db[1:-1] >= level_db[2:])
    peaks = np.flatnonzero(is_peak) + 1
    peaks = peaks[level_db[peaks] > threshold_db]
    nuclei: list[float] = []
    last_kept = None
    for i, p in enumerate(peaks):
        left = peaks[i - 1] if i > 0 else 0
        dip_left = level_db[left : p + 1].min()
        if last_kept is not None and level_db[p] - dip_left < MIN_DIP_DB:
            continue  # not separated from the previous nucleus
        right = peaks[i + 1] if i + 1 < peaks.size else level_db.size - 1
        dip_right = level_db[p : right + 1].min()
        if level_db[p] - dip_right < MIN_DIP_DB and i + 1 < peaks.size:
            if level_db[peaks[i + 1]] > level_db[p]:
                continue  # the next, louder peak stands for this syllable
        f0 = pitch.value_at(float(times[p]))
        if np.isfinite(f0):
            nuclei.append(float(times[p]))
            last_kept = p
    return nuclei


def segment_speech(samples: np.ndarray, rate_hz: float, pitch: PitchTrack | None = None
                   ) -> SpeechSegmentation:
    """Voiced and unvoiced speech, pauses (>= 0.25 s of silence) and syllable nuclei."""
    x = np.asarray(samples, dtype=float)
    duration = x.size / rate_hz
    if x.size == 0 or not np.any(x):
        silent = [(0.0, duration, "pause")] if duration else []
        return SpeechSegmentation(segments=silent, duration_s=duration)
    pitch = pitch if pitch is not None else pitch_ac(x, rate_hz)
    times, level = intensity_db(x, rate_hz)
    loud = np.percentile(level, 99)
    threshold = loud - SILENCE_BELOW_LOUD_DB
    sounding = level > threshold
    voiced = np.array([np.isfinite(pitch.value_at(float(t))) for t in times]) & sounding
    labels = np.where(voiced, "voiced", np.where(sounding, "unvoiced", "silence"))
    segments: list[tuple[float, float, str]] = []
    pauses: list[float] = []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    bounds = np.concatenate(([0], change, [labels.size]))
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        t0 = max(float(times[a]) - FRAME_S / 2, 0.0)
        t1 = min(float(times[b - 1]) + FRAME_S / 2, duration)
        label = str(labels[a])
        if label == "silence":
            inner = a > 0 and b < labels.size
            label = "pause" if (t1 - t0) >= MIN_PAUSE_S else "unvoiced"
            if label == "pause" and inner:
                pauses.append(t1 - t0)
        if segments and segments[-1][2] == label:
            segments[-1] = (segments[-1][0], t1, label)
        else:
            segments.append((float(t0), float(t1), label))
    phonation = sum(e - s for s, e, lab in segments if lab != "pause")
    nuclei = syllable_nuclei(times, level, threshold, pitch)
    return SpeechSegmentation(
        segments=segments, syllable_times_s=nuclei, duration_s=duration, phonation_s=phonation,
        voiced_fraction=float(np.mean(voiced)) if voiced.size else 0.0, pauses_s=pauses,
    )
