"""Synthetic chest recordings with known adventitious sounds, from their acoustic definitions.

Each recording is a run of breathing cycles labelled like the ICBHI 2017 database (normal,
crackle, wheeze, both). Every event is returned with its time-frequency box, so saliency maps
can be checked against where the evidence really is. torch-free; seeded and reproducible.

How a recording is made (the model card quotes this):

1. Breathing: rate 10-40 /min (adults and children), I:E 1:1.2-1:2.5, a short end-expiratory pause; airflow is a sine
   half-wave in inspiration and a fast-rise, exponential-decay wave in expiration. Breath sound
   is Gaussian noise shaped like vesicular sound at the chest wall (high-pass 60-120 Hz, roll-off
   of 12-24 dB/octave above 150-400 Hz) or, for 15% of recordings, like tracheal sound (flat
   100-1000 Hz with resonances); amplitude follows flow^(1-1.8), with more high-frequency
   content at high flow; expiration at the chest wall is 0.25-0.7 x as loud as inspiration
   (Pasterkamp et al. 1997, Am J Respir Crit Care Med 156: 974; Bohadana et al. 2014, NEJM
   370: 744).
2. Wheezes (CORSA, Sovijarvi et al. 2000, Eur Respir Rev 10: 591): continuous, musical; a
   fundamental of 100-1000 Hz (log-uniform) with 0-3 harmonics, a slow glide of -25..+15% and a
   slight vibrato, 100 ms to 1.5 s long (log-uniform), 70% in expiration; 25% polyphonic (extra
   non-harmonic tones). Level -12..+8 dB relative to the breath sound of that phase.
3. Crackles: explosive transients shorter than 20 ms, the standard waveform with a sharp initial
   deflection followed by slower, damped oscillations, parameterised by the initial deflection
   width (IDW) and the two-cycle duration (2CD): fine crackles IDW 0.4-0.9 ms, 2CD 3-8 ms,
   3-12 per cycle in late inspiration; coarse crackles IDW 1.0-2.2 ms, 2CD 10-18 ms, 2-8 per
   cycle in early inspiration and expiration. Peak 6-22 dB above the breath sound's RMS.
4. Chest-wall low-pass (250-800 Hz corner) on the lung sounds; heart sounds (S1 and S2 as 2-3
   sharply starting damped oscillations of 30-150 Hz and 50-250 Hz, at 50-140 beats/min); room noise (pink noise, mains hum, background
   speech), clothing/friction rumble bursts; stethoscope contact and friction artifacts
   (broadband clicks of 1-4 ms and noise bursts of 10-80 ms at random times, 0.1-1.5 per second,
   in 70% of recordings, whatever the label); the stethoscope's response (bell, diaphragm,
   extended-range electronic or microphone band-pass with a tubing resonance); sensor noise;
   a random gain and 16-bit quantisation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

# The pieces live in their own modules; the names tests and other code reach through this
# module are re-exported with ``as``.
from stethoscan.training.adventitious_sound_synthesis import (
    SoundEvent,
    add_crackles,
    add_wheezes,
)
from stethoscan.training.adventitious_sound_synthesis import crackle_waveform as crackle_waveform
from stethoscan.training.adventitious_sound_synthesis import wheeze_waveform as wheeze_waveform
from stethoscan.training.auscultation_noise_synthesis import (
    STETHOSCOPES,
    chest_wall_lowpass,
    contact_artifacts,
    heart_sounds,
    room_noise,
    rumble_bursts,
    stethoscope_response,
)
from stethoscan.training.breathing_sound_synthesis import breath_sound, plan_breathing
from stethoscan.training.respiratory_signal_pieces import loguniform as loguniform
from stethoscan.training.respiratory_signal_pieces import rms

LABELS = ("normal", "crackle", "wheeze", "both")
LABEL_DESCRIPTIONS = (
    "no adventitious sound in this breathing cycle",
    "crackles: short explosive sounds (fluid or collapsed airways opening), fine or coarse",
    "wheezes: continuous musical sounds (narrowed airways), often in expiration",
    "both crackles and wheezes in this breathing cycle",
)
DEFAULT_LABEL_PROBABILITIES = (0.4, 0.2, 0.2, 0.2)
SYNTHESIS_RATE_HZ = 8000


@dataclass
class SyntheticCycle:
    """One breathing cycle (inspiration onset to the next inspiration onset)."""

    start_s: float
    end_s: float
    label: str
    inspiration_end_s: float
    events: list[SoundEvent] = field(default_factory=list)

    @property
    def crackles(self) -> bool:
        return self.label in ("crackle", "both")

    @property
    def wheezes(self) -> bool:
        return self.label in ("wheeze", "both")


@dataclass
class SyntheticRecording:
    samples: np.ndarray  # float32 mono in [-1, 1]
    rate_hz: int
    cycles: list[SyntheticCycle]
    settings: dict = field(default_factory=dict)  # what was drawn (location, stethoscope, ...)

    @property
    def duration_s(self) -> float:
        return self.samples.size / float(self.rate_hz)


# --- a whole recording --------------------------------------------------------------------------
def draw_labels(rng: np.random.Generator, n: int,
                probabilities: tuple[float, ...] = DEFAULT_LABEL_PROBABILITIES) -> list[str]:  # fmt: skip
    p = np.asarray(probabilities, dtype=float)
    return [LABELS[i] for i in rng.choice(len(LABELS), size=n, p=p / p.sum())]


def synthesize_recording(rng: np.random.Generator, labels: list[str],
                         rate_hz: int = SYNTHESIS_RATE_HZ) -> SyntheticRecording:  # fmt: skip
    """One recording whose breathing cycles carry ``labels`` (in order)."""
    location = "trachea" if rng.random() < 0.15 else "chest"
    stethoscope = str(rng.choice(STETHOSCOPES, p=[0.2, 0.35, 0.3, 0.15]))
    crackle_kind = "fine_crackle" if rng.random() < 0.5 else "coarse_crackle"
    settings: dict = {"location": location, "stethoscope": stethoscope, "crackle_kind": crackle_kind}
    plan = plan_breathing(rng, len(labels), rate_hz, location,
                          lead_in_s=rng.uniform(0.0, 1.0), tail_s=rng.uniform(0.2, 1.0))  # fmt: skip
    n = plan.envelope.size
    lung = breath_sound(rng, plan, rate_hz, location)
    cycles = []
    for index, label in enumerate(labels):
        a, b = plan.starts[index], plan.ends[index]
        breath_rms = rms(lung[a:b])
        events: list[SoundEvent] = []
        if label in ("wheeze", "both"):
            events += add_wheezes(rng, lung, plan, index, rate_hz, breath_rms)
        if label in ("crackle", "both"):
            kind = crackle_kind if rng.random() < 0.85 else ({"fine_crackle": "coarse_crackle",
                                                              "coarse_crackle": "fine_crackle"}[crackle_kind])  # fmt: skip
            events += add_crackles(rng, lung, plan, index, rate_hz, breath_rms, kind)
        cycles.append(SyntheticCycle(a / rate_hz, b / rate_hz, label,
                                     plan.insp_ends[index] / rate_hz, events))  # fmt: skip
    body = chest_wall_lowpass(rng, lung, rate_hz, location)
    reference = rms(body[plan.starts[0] : plan.ends[-1]])
    heart_db = rng.uniform(-6.0, 20.0) if location == "chest" else rng.uniform(-20.0, 0.0)
    body += heart_sounds(rng, n, rate_hz) * reference * 10 ** (heart_db / 20.0)
    body += room_noise(rng, n, rate_hz, settings) * reference
    if rng.random() < 0.5:
        body += rumble_bursts(rng, n, rate_hz) * reference * 10 ** (rng.uniform(-10.0, 6.0) / 20.0)
    if rng.random() < 0.7:
        body += contact_artifacts(rng, n, rate_hz) * reference
    heard = stethoscope_response(rng, body, rate_hz, stethoscope)
    heard += rng.standard_normal(n) * rms(heard) * 10 ** (rng.uniform(-45.0, -25.0) / 20.0)
    peak = float(np.max(np.abs(heard))) or 1.0
    samples = heard * (rng.uniform(0.05, 0.9) / peak)
    samples = np.round(samples * 32767.0) / 32767.0  # 16-bit quantisation
    settings["heart_db"] = round(heart_db, 1)
    return SyntheticRecording(samples.astype(np.float32), rate_hz, cycles, settings)


def synthesize_corpus(n_cycles: int, seed: int, rate_hz: int = SYNTHESIS_RATE_HZ,
                      probabilities: tuple[float, ...] = DEFAULT_LABEL_PROBABILITIES,
                      ) -> Iterator[SyntheticRecording]:  # fmt: skip
    """Recordings of 3-8 cycles each until ``n_cycles`` cycles in total (reproducible by seed)."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < n_cycles:
        count = min(int(rng.integers(3, 9)), n_cycles - made)
        yield synthesize_recording(rng, draw_labels(rng, count, probabilities), rate_hz)
        made += count
