"""The guided recording protocols: what to ask the patient, for how long, and what a good take is.

Public API::

    for task in RECORDING_TASKS: task.key, task.title, task.prompt, task.passage,
                                 task.record_s, task.takes, task.criteria
    task = get_task("vowel_a")
    report = assess_take(task, samples, rate_hz)   # QualityReport: figures + worded problems

``record_s`` is how long the studio records before stopping on its own (the clinician can stop
earlier); ``criteria`` (a :class:`QualityCriteria`) is what the automatic check after each take
asks for. Durations in s, levels in dBFS, SNR in dB. The thresholds are conservative defaults
for a handheld or clip-on microphone at 10-30 cm, not tuned to any one recording.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stethoscan.audio.signal_quality import QualityCriteria, QualityReport, assess_quality
from stethoscan.core.errors import ValidationError

# Aesop's fable as used by the International Phonetic Association (public domain).
NORTH_WIND_AND_THE_SUN = (
    "The North Wind and the Sun were disputing which was the stronger, when a traveler came "
    "along wrapped in a warm cloak. They agreed that the one who first succeeded in making the "
    "traveler take his cloak off should be considered stronger than the other. Then the North "
    "Wind blew as hard as he could, but the more he blew the more closely did the traveler fold "
    "his cloak around him; and at last the North Wind gave up the attempt. Then the Sun shined "
    "out warmly, and immediately the traveler took off his cloak. And so the North Wind was "
    "obliged to confess that the Sun was the stronger of the two."
)

_QUIET_START = "Wait one second after pressing Record, then "


@dataclass(frozen=True)
class RecordingTask:
    """One guided protocol. ``kind`` is "voice", "breath" or "cough"."""

    key: str
    title: str
    kind: str
    prompt: str  # read to the patient / shown on screen
    record_s: float  # the studio stops on its own after this, s
    takes: int  # how many takes the protocol asks for
    criteria: QualityCriteria
    passage: str = ""  # text the patient reads aloud (reading task)

    @property
    def target_text(self) -> str:
        """The target duration in words, e.g. "3-6 s of sound"."""
        return f"{self.criteria.duration_text()} of sound"


RECORDING_TASKS: tuple[RecordingTask, ...] = (
    RecordingTask(
        key="vowel_a", title="Sustained vowel /a/", kind="voice",
        prompt=_QUIET_START + "take a breath and say \"aaah\" steadily, at a comfortable pitch "
        "and loudness, for 3 to 6 seconds.",
        record_s=9.0, takes=3,
        criteria=QualityCriteria(min_active_s=3.0, max_active_s=6.0, min_snr_db=20.0,
                                 min_signal_dbfs=-40.0),
    ),
    RecordingTask(
        key="reading", title="Reading passage", kind="voice",
        prompt=_QUIET_START + "read the passage aloud at your usual pace and loudness.",
        record_s=90.0, takes=1, passage=NORTH_WIND_AND_THE_SUN,
        criteria=QualityCriteria(min_active_s=12.0, min_snr_db=20.0, min_signal_dbfs=-40.0),
    ),
    RecordingTask(
        key="counting", title="Counting 1 to 20", kind="voice",
        prompt=_QUIET_START + "count aloud from one to twenty at your usual pace.",
        record_s=30.0, takes=1,
        criteria=QualityCriteria(min_active_s=5.0, min_snr_db=20.0, min_signal_dbfs=-40.0),
    ),
    RecordingTask(
        key="cough", title="Voluntary cough", kind="cough",
        prompt=_QUIET_START + "cough five times, as you would to clear your throat, with a "
        "breath between coughs.",
        record_s=20.0, takes=1,
        criteria=QualityCriteria(min_active_s=0.5, min_snr_db=15.0, min_signal_dbfs=-40.0,
                                 expected_events=5, event_gap_s=0.2, max_clipped_fraction=0.002),
    ),
    RecordingTask(
        key="tidal_breathing", title="Tidal breathing", kind="breath",
        prompt="Breathe normally and quietly through the open mouth for 30 seconds. Do not talk.",
        record_s=30.0, takes=1,
        criteria=QualityCriteria(min_active_s=5.0, min_take_s=30.0, min_snr_db=6.0,
                                 min_signal_dbfs=-60.0),
    ),
    RecordingTask(
        key="deep_breathing", title="Deep breathing", kind="breath",
        prompt=_QUIET_START + "breathe in deeply and out deeply through the open mouth, slowly, "
        "five times.",
        record_s=40.0, takes=1,
        criteria=QualityCriteria(min_active_s=8.0, min_snr_db=10.0, min_signal_dbfs=-55.0),
    ),
    RecordingTask(
        key="forced_expiration", title="Forced expiration", kind="breath",
        prompt=_QUIET_START + "take the deepest breath you can, then blow out as hard and as "
        "fast as you can, until your lungs are empty.",
        record_s=12.0, takes=3,
        criteria=QualityCriteria(min_active_s=1.5, max_active_s=10.0, min_snr_db=15.0,
                                 min_signal_dbfs=-45.0),
    ),
)


def get_task(key: str) -> RecordingTask:
    """The protocol with this key; :class:`ValidationError` for an unknown key."""
    for task in RECORDING_TASKS:
        if task.key == key:
            return task
    known = ", ".join(t.key for t in RECORDING_TASKS)
    raise ValidationError(f"There is no recording task '{key}'. Known tasks: {known}.")


def assess_take(task: RecordingTask, samples: np.ndarray, rate_hz: int) -> QualityReport:
    """The automatic quality check of one take of ``task``."""
    return assess_quality(samples, rate_hz, task.criteria)
