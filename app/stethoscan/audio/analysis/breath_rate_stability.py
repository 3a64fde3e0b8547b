"""How far the automatic breathing rate can be trusted: does an inaudible change move it?

The rate comes from a chain of envelope minima chosen among candidate breathing periods; where
two periods score almost alike (e.g. one cycle or two per loud burst) the choice can flip on
details no listener hears. The check re-runs the segmentation on PERTURBATIONS copies of the
preprocessed take with white noise PERTURB_DB below its RMS level added (fixed seeds, so the
result is reproducible) and reports the range of the rates. A range wider than UNSTABLE_BPM is
told to the clinician with what to do (count by ear). Only the segmentation is re-run (the
preprocessing's noise reduction is the costly step), so the check adds ~30 ms to 20 s.

Measured when written (2026-11-24): `stethoscan evaluate --breath-segmentation --synthetic 1200`
(208 rated synthetic recordings) reports the warning on 2.9 % of them; 67 % of those were more than
3 breaths/min off, against 13 % of the others. On 180 harder development recordings (irregular,
alternating breaths) it fired on 9 %, 47 % of them off against 26 %. So it is a weak warning, not
a guarantee. On the real ICBHI sample it fires on 104 Al (20.6-26.3), not on 101, 103 or 104 Ll,
whose wrong rate (15.0 for the expert's 30.6) is stable: a stable rate is not therefore a right one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

PERTURBATIONS = 3
PERTURB_DB = -60.0  # noise level re the take's RMS: far below anything a listener hears
UNSTABLE_BPM = 3.0  # the tolerance for the rate


def perturbed_rates(mono: np.ndarray, rate_of: Callable[[np.ndarray], float],
                    n: int = PERTURBATIONS) -> list[float]:  # fmt: skip
    """``rate_of`` (breaths/min, NaN when none) of ``n`` copies of ``mono`` with faint noise."""
    x = np.asarray(mono, dtype=np.float64)
    rms = float(np.sqrt(np.mean(x**2))) if x.size else 0.0
    rates = []
    for seed in range(n):
        noise = np.random.default_rng(1000 + seed).normal(0.0, 10 ** (PERTURB_DB / 20) * rms, x.size)
        rates.append(float(rate_of((x + noise).astype(np.float32))))
    return rates


def rate_range(base_bpm: float | None, others: list[float]) -> tuple[float, float] | None:
    """(lowest, highest) rate among the take and its perturbed copies; None without any rate."""
    values = [v for v in [base_bpm if base_bpm is not None else math.nan, *others] if math.isfinite(v)]
    return (min(values), max(values)) if values else None


def unstable_note(span: tuple[float, float] | None) -> str | None:
    """The sentence for a rate that moves by more than UNSTABLE_BPM, else None."""
    if span is None or span[1] - span[0] <= UNSTABLE_BPM:
        return None
    return (f"The automatic rate is uncertain on this take: inaudible changes to the recording move "
            f"it between {span[0]:.1f} and {span[1]:.1f} breaths/min. Count the breaths by ear "
            "(in the review view, press B at each breath) or against the patient.")  # fmt: skip
