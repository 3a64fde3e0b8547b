"""Synthetic subjects: demographics, class-specific atrophy and cognitive score trajectories.

Every figure below is a rounded value from the cited literature; the synthetic cohort is a
caricature that keeps the sizes and the overlaps between classes, not a model of any population.

Demographics (ADNI-like; Petersen et al. 2010, Neurology 74:201): age 73 +- 7 years (55-90),
education 14 +- 3 years, half women. Labels are balanced: cognitively normal (CN), mild
cognitive impairment (MCI) and dementia (Alzheimer type).

Atrophy relative to the young template (all relative volume changes):

- Hippocampus, cross-sectional difference to controls: MCI about -12 %, Alzheimer's dementia
  about -24 %, left slightly more than right (meta-analysis: Shi et al. 2009, Hippocampus
  19:1055; Jack et al. 1997/2000, Neurology). Between-subject SD among controls ~8 % here.
- Annual hippocampal loss: controls ~1.4 %/yr, MCI ~2.8 %/yr, AD ~4.7 %/yr (Barnes et al. 2009,
  Neurobiol Aging 30:1711; Schuff et al. 2009, Brain 132:1067; Frisoni et al. 2010, Nat Rev Neurol
  6:67), applied over the years of follow-up before the scan. Age effect on the template (a
  young adult): ~0.5 %/yr after 50 for every class.
- Medial temporal lobe (entorhinal/parahippocampal/amygdala region): the same effect sizes as the
  hippocampus (Pennanen et al. 2004, Neurobiol Aging 25:303 report similar or larger entorhinal
  losses).
- Lateral ventricles: larger by ~15 % in MCI and ~40 % in AD than in controls, growing ~2.5 %/yr
  (CN), ~4 %/yr (MCI), ~6 %/yr (AD) (Nestor et al. 2008, Brain 131:2443; Frisoni 2010), plus
  ~2 %/yr with age after 50 and a large between-subject SD (~20 %).
- Temporal horns: enlarge 3x the relative hippocampal loss of their side (a MODELLING ASSUMPTION
  after the medial temporal atrophy rating, Scheltens et al. 1992, J Neurol Neurosurg Psychiatry
  55:967, not a published figure).

Cognitive scores per visit (1-6 visits, 0.5-1.5 years apart; the scan is at the last visit):

- MMSE at the first visit: CN 29.0 +- 1.0, MCI 27.0 +- 1.8, dementia 23.3 +- 2.0 (ADNI baseline,
  Petersen 2010); +0.15 per year of education above 14 and -0.04 per year of age above 73
  (direction and size after the norms of Crum et al. 1993, JAMA 269:2386).
- MoCA at the first visit: CN 26.5 +- 2.3, MCI 22.1 +- 3.1, dementia 16.2 +- 4.8 (Nasreddine et
  al. 2005, J Am Geriatr Soc 53:695); +1 point for <= 12 years of education (the MoCA rule).
- Annual change: MMSE CN -0.2 +- 0.3, MCI -1.0 +- 0.7, dementia -2.8 +- 1.2 points/yr (Han et
  al. 2000, J Clin Epidemiol 53:65; Clark et al. 1999, Arch Neurol 56:857; ADNI); MoCA 1.2 times
  the MMSE slope. Visit-to-visit noise SD 1.0 (MMSE) and 1.5 (MoCA) points. Scores are rounded
  and clipped to 0-30; MMSE is missing at 10 % and MoCA at 40 % of visits (never both).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CLASSES = ("CN", "MCI", "dementia")
CLASS_DESCRIPTIONS = (
    "Cognitively normal: no pattern of mild cognitive impairment or dementia found",
    "Mild cognitive impairment: pattern of early medial temporal atrophy and/or cognitive decline",
    "Dementia (Alzheimer type): pattern of marked atrophy and/or cognitive decline",
)
_HIPPO_CROSS = (0.0, -0.12, -0.24)
_HIPPO_RATE = (-0.014, -0.028, -0.047)
_VENT_CROSS = (0.0, 0.15, 0.40)
_VENT_RATE = (0.025, 0.04, 0.06)
_MMSE_BASE = ((29.0, 1.0), (27.0, 1.8), (23.3, 2.0))
_MOCA_BASE = ((26.5, 2.3), (22.1, 3.1), (16.2, 4.8))
_MMSE_SLOPE = ((-0.2, 0.3), (-1.0, 0.7), (-2.8, 1.2))


@dataclass
class SyntheticSubject:
    """One synthetic person: label index into CLASSES, demographics, visits, atrophy."""

    label: int
    age_years: float  # at the scan (last visit)
    sex: str  # "F" | "M"
    education_years: float
    visits: list[dict] = field(default_factory=list)  # years_from_first, age_years, mmse, moca
    changes: dict[str, float] = field(default_factory=dict)  # brain_synthesis structure -> change
    size_scale: float = 1.0


def draw_subject(label: int, rng: np.random.Generator) -> SyntheticSubject:
    """Draw demographics, a visit history and atrophy for class ``label`` (0 CN, 1 MCI, 2 dem.)."""
    age = float(np.clip(rng.normal(73.0, 7.0), 55.0, 90.0))
    sex = "F" if rng.random() < 0.5 else "M"
    education = float(np.clip(np.round(rng.normal(14.0, 3.0)), 6.0, 22.0))
    visits = _draw_visits(label, age, education, rng)
    follow_up = visits[-1]["years_from_first"]
    subject = SyntheticSubject(label, age, sex, education, visits)
    subject.changes = _draw_atrophy(label, age, follow_up, rng)
    # brain size: men ~8-10 % larger volume than women (~3 % linear), SD ~3 % linear
    subject.size_scale = float(np.clip(rng.normal(1.015 if sex == "M" else 0.985, 0.03), 0.9, 1.1))
    return subject


def _draw_visits(label: int, age_at_scan: float, education: float, rng: np.random.Generator) -> list[dict]:
    count = int(rng.integers(1, 7))
    gaps = rng.uniform(0.5, 1.5, count - 1)
    times = np.concatenate([[0.0], np.cumsum(gaps)])
    first_age = age_at_scan - times[-1]
    mmse0 = rng.normal(*_MMSE_BASE[label]) + 0.15 * (education - 14) - 0.04 * (first_age - 73)
    moca0 = rng.normal(*_MOCA_BASE[label]) + (1.0 if education <= 12 else 0.0)
    moca0 += 0.15 * (education - 14)
    slope = min(rng.normal(*_MMSE_SLOPE[label]), 0.3)
    visits = []
    for t in times:
        mmse = _score(mmse0 + slope * t + rng.normal(0, 1.0))
        moca = _score(moca0 + 1.2 * slope * t + rng.normal(0, 1.5))
        draw = rng.random()
        if draw < 0.1:
            mmse = None
        elif draw < 0.5:
            moca = None
        visits.append({"years_from_first": float(t), "age_years": float(first_age + t),
                       "mmse": mmse, "moca": moca})
    return visits


def _score(value: float) -> float:
    return float(np.clip(np.round(value), 0, 30))


def _draw_atrophy(label: int, age: float, follow_up: float, rng: np.random.Generator) -> dict[str, float]:
    aging = max(age - 50.0, 0.0)
    hippo = -0.005 * aging + _HIPPO_CROSS[label] + _HIPPO_RATE[label] * follow_up
    hippo += rng.normal(0, 0.08)
    vent = 0.02 * aging + _VENT_CROSS[label] + _VENT_RATE[label] * follow_up + rng.normal(0, 0.2)
    asym = rng.normal(-0.02, 0.03)  # left slightly more atrophic (Shi 2009)
    left = float(np.clip(hippo + asym / 2, -0.55, 0.15))
    right = float(np.clip(hippo - asym / 2, -0.55, 0.15))
    mtl_noise = rng.normal(0, 0.04, 2)
    return {
        "hippocampus_left": left,
        "hippocampus_right": right,
        "mtl_left": float(np.clip(left + mtl_noise[0], -0.55, 0.15)),
        "mtl_right": float(np.clip(right + mtl_noise[1], -0.55, 0.15)),
        "ventricles": float(np.clip(vent, -0.2, 1.5)),
        "temporal_horn_left": float(np.clip(-3.0 * left, 0.0, 1.5)),
        "temporal_horn_right": float(np.clip(-3.0 * right, 0.0, 1.5)),
    }
