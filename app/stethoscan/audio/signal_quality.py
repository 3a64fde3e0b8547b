"""Quality of a take: clipping, signal-to-noise ratio, active-signal duration and silence.

Everything works on the power of short frames (20 ms). The background noise is the quiet end of
the frame powers (5th percentile), the signal the loud end (95th percentile); a frame is *active*
when it stands clearly above the background. This needs a quiet moment in the take (the second
before the patient starts), which the guided tasks ask for.

Use :func:`assess_quality` after each take::

    report = assess_quality(samples, rate_hz, criteria)   # criteria from recording_tasks
    report.passed, report.problems  # ["too quiet: move the microphone closer", ...]
    report.to_dict()                # the figures stored with the take (quality json)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from stethoscan.audio.level_metering import (
    CLIP_LEVEL,
    FLOOR_DBFS,
    peak_dbfs,
    power_to_dbfs,
    rms_dbfs,
)

FRAME_S = 0.02
NOISE_PERCENTILE = 5.0
SIGNAL_PERCENTILE = 95.0
ACTIVE_MARGIN_DB = 10.0  # an active frame is this far above the background noise ...
ACTIVE_BELOW_SIGNAL_DB = 3.0  # ... or, for takes with no pause, near the signal level
MAX_SNR_DB = 100.0
SILENT_PEAK_DBFS = -60.0  # a take whose peak stays below this holds no usable sound


@dataclass(frozen=True)
class QualityCriteria:
    """What a good take of one task looks like. Durations in s, levels in dBFS, SNR in dB."""

    min_active_s: float = 1.0
    max_active_s: float | None = None
    min_take_s: float = 0.0  # the whole take (sound and pauses) must last this long
    min_snr_db: float = 15.0
    min_signal_dbfs: float = -45.0
    max_clipped_fraction: float = 0.0005
    expected_events: int | None = None  # e.g. 5 coughs
    event_gap_s: float = 0.25  # pauses at least this long separate events

    def duration_text(self) -> str:
        if self.max_active_s is None:
            return f"at least {self.min_active_s:g} s"
        return f"{self.min_active_s:g}-{self.max_active_s:g} s"


@dataclass
class QualityReport:
    """Figures of one take and the problems found, worded for the clinician."""

    duration_s: float
    active_s: float
    silent_fraction: float
    longest_silence_s: float
    snr_db: float
    rms_dbfs: float
    peak_dbfs: float
    signal_dbfs: float
    noise_floor_dbfs: float
    clipped_samples: int
    clipped_fraction: float
    events: int
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["passed"] = self.passed
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in data.items()}


def frame_powers(mono: np.ndarray, rate_hz: int, frame_s: float = FRAME_S) -> np.ndarray:
    """Mean-square power of consecutive frames (full scale 1.0); the last partial frame is dropped."""
    frame = max(int(round(frame_s * rate_hz)), 1)
    count = mono.shape[0] // frame
    if count == 0:
        x = mono.astype(np.float64)
        return np.array([float(np.mean(x * x))]) if x.size else np.zeros(0)
    x = mono[: count * frame].astype(np.float64).reshape(count, frame)
    return np.einsum("ij,ij->i", x, x) / frame


def noise_and_signal_power(powers: np.ndarray) -> tuple[float, float]:
    """Background-noise and signal power from frame powers (percentiles, see module text)."""
    if powers.size == 0:
        return 0.0, 0.0
    noise, signal = np.percentile(powers, [NOISE_PERCENTILE, SIGNAL_PERCENTILE])
    return float(noise), float(signal)


def snr_from_frame_powers(powers: np.ndarray) -> float:
    """Signal-to-noise ratio in dB from frame powers, within [0, 100] dB."""
    noise, signal = noise_and_signal_power(powers)
    floor = 10.0 ** (FLOOR_DBFS / 10.0)
    if signal <= floor:
        return 0.0
    snr = 10.0 * np.log10(max(signal - noise, floor) / max(noise, floor))
    return float(np.clip(snr, 0.0, MAX_SNR_DB))


def estimate_snr_db(samples: np.ndarray, rate_hz: int) -> float:
    """Estimated signal-to-noise ratio in dB of a mono or multi-channel signal."""
    return snr_from_frame_powers(frame_powers(_mono(samples), rate_hz))


def active_frames(powers: np.ndarray) -> np.ndarray:
    """Boolean mask of frames that hold sound rather than background noise."""
    if powers.size == 0:
        return np.zeros(0, dtype=bool)
    noise, signal = noise_and_signal_power(powers)
    noise_db, signal_db = power_to_dbfs(noise), power_to_dbfs(signal)
    threshold_db = min(noise_db + ACTIVE_MARGIN_DB, signal_db - ACTIVE_BELOW_SIGNAL_DB)
    threshold_db = max(threshold_db, FLOOR_DBFS + ACTIVE_MARGIN_DB)
    return powers > 10.0 ** (threshold_db / 10.0)


def count_events(active: np.ndarray, gap_frames: int) -> int:
    """Number of sound events: runs of active frames separated by >= ``gap_frames`` quiet frames."""
    events, quiet_run, inside = 0, gap_frames, False
    for is_active in active:
        if is_active:
            if not inside and quiet_run >= gap_frames:
                events += 1
            inside, quiet_run = True, 0
        else:
            quiet_run += 1
            if quiet_run >= gap_frames:
                inside = False
    return events


def longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True values."""
    best = run = 0
    for value in mask:
        run = run + 1 if value else 0
        best = max(best, run)
    return best


def clipping(samples: np.ndarray, level: float = CLIP_LEVEL) -> tuple[int, float]:
    """Clipped sample count and fraction (all channels; |sample| >= ``level``)."""
    if samples.size == 0:
        return 0, 0.0
    count = int(np.count_nonzero(np.abs(samples) >= level))
    return count, count / samples.size


def assess_quality(
    samples: np.ndarray, rate_hz: int, criteria: QualityCriteria | None = None
) -> QualityReport:
    """Measure a take and word its problems against ``criteria`` (default: generic criteria)."""
    criteria = criteria or QualityCriteria()
    mono = _mono(samples)
    powers = frame_powers(mono, rate_hz)
    active = active_frames(powers)
    noise, signal = noise_and_signal_power(powers)
    clipped, clipped_fraction = clipping(samples)
    gap_frames = max(int(round(criteria.event_gap_s / FRAME_S)), 1)
    report = QualityReport(
        duration_s=mono.shape[0] / rate_hz if rate_hz else 0.0,
        active_s=float(np.count_nonzero(active)) * FRAME_S,
        silent_fraction=float(1.0 - active.mean()) if active.size else 1.0,
        longest_silence_s=longest_run(~active) * FRAME_S,
        snr_db=snr_from_frame_powers(powers),
        rms_dbfs=rms_dbfs(samples),
        peak_dbfs=peak_dbfs(samples),
        signal_dbfs=power_to_dbfs(signal),
        noise_floor_dbfs=power_to_dbfs(noise),
        clipped_samples=clipped,
        clipped_fraction=clipped_fraction,
        events=count_events(active, gap_frames),
    )
    report.problems = word_problems(report, criteria)
    return report


def word_problems(report: QualityReport, criteria: QualityCriteria) -> list[str]:
    """The problems of a take, each a short sentence that says what to do."""
    if report.peak_dbfs < SILENT_PEAK_DBFS:
        return [
            "no sound: check that the right microphone is selected, switched on and not muted"
        ]
    problems: list[str] = []
    if report.clipped_fraction > criteria.max_clipped_fraction:
        problems.append("clipped: move the microphone away or lower the input gain")
    if report.signal_dbfs < criteria.min_signal_dbfs:
        problems.append("too quiet: move the microphone closer")
    elif report.snr_db < criteria.min_snr_db:
        problems.append(
            f"too noisy: the sound is only {report.snr_db:.0f} dB above the background "
            f"(needs {criteria.min_snr_db:.0f} dB); record in a quieter room or move the "
            "microphone closer"
        )
    problems.extend(_duration_problems(report, criteria))
    return problems


def _duration_problems(report: QualityReport, criteria: QualityCriteria) -> list[str]:
    need = criteria.duration_text()
    if report.duration_s < criteria.min_take_s - 0.05:
        return [
            f"stopped early: {report.duration_s:.1f} s recorded, the task needs "
            f"{criteria.min_take_s:g} s"
        ]
    if report.active_s < criteria.min_active_s:
        return [f"too short: {report.active_s:.1f} s of sound, the task needs {need}"]
    if criteria.max_active_s is not None and report.active_s > criteria.max_active_s:
        return [f"too long: {report.active_s:.1f} s of sound, the task needs {need}"]
    if criteria.expected_events is not None and report.events < criteria.expected_events:
        return [
            f"{report.events} separate sounds found, the task asks for "
            f"{criteria.expected_events}: repeat with a short pause between them"
        ]
    return []


def _mono(samples: np.ndarray) -> np.ndarray:
    if samples.ndim == 1:
        return samples
    return samples.mean(axis=1, dtype=np.float32)
