"""Breathing for the synthetic chest recordings: cycle timing, airflow and breath sound.

Step 1 of :mod:`stethoscan.training.respiratory_synthesis` (its docstring gives the figures).
torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stethoscan.training.respiratory_signal_pieces import (
    butter_gain,
    raised_cosine_taper,
    shaped_noise,
)


def breath_spectrum(rng: np.random.Generator, location: str):
    """Amplitude spectrum (function of Hz) of breath sound at the chest wall or the trachea."""
    high_pass = rng.uniform(60.0, 120.0)
    if location == "trachea":
        corner = rng.uniform(700.0, 1300.0)
        peaks = [(rng.uniform(150.0, 1100.0), rng.uniform(60.0, 200.0), rng.uniform(1.5, 3.0))
                 for _ in range(2)]  # fmt: skip

        def gain(f):
            g = butter_gain(f, high_pass, 2, True) * butter_gain(f, corner, 4, False)
            for centre, width, height in peaks:
                g = g * (1.0 + (height - 1.0) * np.exp(-0.5 * ((f - centre) / width) ** 2))
            return g

        return gain
    corner = rng.uniform(150.0, 400.0)
    order = rng.uniform(1.0, 2.0)  # 12-24 dB/octave above the corner... with the high-pass below

    def gain(f):
        return butter_gain(f, high_pass, 2, True) * butter_gain(f, corner, order, False)

    return gain


def _flow_profiles(rng, t_insp: float, t_exp: float, rate_hz: int):
    """Normalised airflow (0..1) over inspiration and expiration."""
    ti = np.arange(int(t_insp * rate_hz)) / rate_hz
    te = np.arange(int(t_exp * rate_hz)) / rate_hz
    insp = np.sin(np.pi * ti / t_insp) ** rng.uniform(0.6, 1.2)
    peak = rng.uniform(0.12, 0.3) * t_exp  # passive expiration: fast rise, exponential decay
    exp_ = (te / peak) * np.exp(1.0 - te / peak)
    exp_ *= raised_cosine_taper(exp_.size, int(0.05 * rate_hz))
    return insp, exp_


@dataclass
class _BreathPlan:
    starts: list[int]
    insp_ends: list[int]
    ends: list[int]
    flow: np.ndarray
    envelope: np.ndarray  # breath-sound amplitude


def plan_breathing(rng: np.random.Generator, n_cycles: int, rate_hz: int, location: str,
                   lead_in_s: float, tail_s: float) -> _BreathPlan:  # fmt: skip
    """Cycle boundaries, flow and breath-sound amplitude envelope of a whole recording."""
    rate_bpm = rng.uniform(10.0, 40.0)  # adults 10-30, children up to 40
    ie = rng.uniform(1.2, 2.5)
    gamma = rng.uniform(1.0, 1.8)
    exp_gain = rng.uniform(0.7, 1.2) if location == "trachea" else rng.uniform(0.25, 0.7)
    pieces_flow, pieces_env = [np.zeros(int(lead_in_s * rate_hz))], [np.zeros(int(lead_in_s * rate_hz))]
    starts, insp_ends, ends = [], [], []
    cursor = pieces_flow[0].size
    for _ in range(n_cycles):
        period = 60.0 / rate_bpm * rng.uniform(0.88, 1.12)
        pause = period * rng.uniform(0.0, 0.15)
        t_insp = (period - pause) / (1.0 + ie * rng.uniform(0.9, 1.1))
        t_exp = period - pause - t_insp
        insp, exp_ = _flow_profiles(rng, t_insp, t_exp, rate_hz)
        level = rng.uniform(0.8, 1.25)
        flow = np.concatenate([insp, exp_, np.zeros(int(pause * rate_hz))])
        env = np.concatenate([level * insp**gamma, level * exp_gain * exp_**gamma,
                              np.zeros(int(pause * rate_hz))])  # fmt: skip
        starts.append(cursor)
        insp_ends.append(cursor + insp.size)
        cursor += flow.size
        ends.append(cursor)
        pieces_flow.append(flow)
        pieces_env.append(env)
    tail = np.zeros(int(tail_s * rate_hz))
    flow = np.concatenate([*pieces_flow, tail])
    envelope = np.concatenate([*pieces_env, tail])
    return _BreathPlan(starts, insp_ends, ends, flow, envelope)


def breath_sound(rng: np.random.Generator, plan: _BreathPlan, rate_hz: int, location: str):
    """Noise shaped like breath sound, modulated by the plan's envelope (more highs at high flow)."""
    spectrum = breath_spectrum(rng, location)
    n = plan.envelope.size
    low = shaped_noise(rng, n, rate_hz, spectrum)
    high = shaped_noise(rng, n, rate_hz, lambda f: spectrum(f) * np.sqrt(np.maximum(f, 1) / 200.0))
    floor = 0.03 * rng.uniform(0.5, 2.0)  # faint sound even at zero flow
    return (plan.envelope + floor) * low + 0.5 * plan.envelope * plan.flow * high
