"""Breathing segmentation of the part of a take that holds sound, without silent lead-in or tail.

A take often starts (or ends) with seconds of digital silence or near-silence: a gated input, the
virtual or USB microphone before the stethoscope touches the chest, a recorder left running after
it is lifted. Those stretches lie 60 dB or more below the breath sounds and stretch the envelope's
level range so far that the breathing cycles no longer stand out (a 15.9 s ICBHI recording with
3 s of digital silence before it gave no cycle at all). They are left out before segmenting;
the cycle times are given on the take's own time axis.

    span = sounding_span_s(mono, clip.rate_hz)          # on the samples as recorded
    seg, quiet = segment_sounding_breaths(pre.samples, pre.rate_hz, span)
    seg.segments   # (start_s, end_s, label) in the take's time
    quiet          # (leading_s, trailing_s) left out
"""

from __future__ import annotations

import dataclasses

import numpy as np

from stethoscan.audio.analysis.breath_segmentation import BreathSegmentation, segment_breathing

EDGE_FRAME_S = 0.05
QUIET_BELOW_MEDIAN_DB = 45.0  # breathing pauses at the chest stay within ~30 dB of the median level


def sounding_span_s(samples: np.ndarray, rate_hz: float) -> tuple[float, float]:
    """Start and end (s) of the take without leading and trailing frames more than
    QUIET_BELOW_MEDIAN_DB below the median frame level (the whole take if none)."""
    x = np.asarray(samples, dtype=np.float64)
    frame = max(int(round(EDGE_FRAME_S * rate_hz)), 1)
    n = x.size // frame
    if n < 3:
        return 0.0, x.size / float(rate_hz)
    power = np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)
    level_db = 10.0 * np.log10(power + 1e-30)
    sounding = np.flatnonzero(level_db > np.median(level_db) - QUIET_BELOW_MEDIAN_DB)
    if sounding.size == 0:
        return 0.0, x.size / float(rate_hz)
    end = x.size if sounding[-1] == n - 1 else (sounding[-1] + 1) * frame
    return float(sounding[0] * frame / rate_hz), float(end / rate_hz)


def segment_sounding_breaths(samples: np.ndarray, rate_hz: float, span_s: tuple[float, float]
                             ) -> tuple[BreathSegmentation, tuple[float, float]]:
    """``segment_breathing`` of ``samples`` within ``span_s`` (from :func:`sounding_span_s` of the
    recording as read: filtering has removed the low-frequency sound that sets its level); times
    on the take's axis, and the (leading, trailing) seconds left out."""
    duration_s = np.asarray(samples).size / float(rate_hz)
    start_s, end_s = float(span_s[0]), min(float(span_s[1]), duration_s)
    if start_s <= 0.0 and end_s >= duration_s:
        return segment_breathing(samples, rate_hz), (0.0, 0.0)
    part = np.asarray(samples)[int(round(start_s * rate_hz)) : int(round(end_s * rate_hz))]
    seg = segment_breathing(part, rate_hz)
    shifted = dataclasses.replace(
        seg,
        cycles=[(a + start_s, b + start_s) for a, b in seg.cycles],
        phases=[(a + start_s, b + start_s, label) for a, b, label in seg.phases],
        envelope_times_s=seg.envelope_times_s + start_s,
    )
    return shifted, (start_s, duration_s - end_s)
