"""Is a recording like the respiratory model's training data? A check a clinician can read.

A model trained on synthetic breath sounds can be confidently wrong on a real recording whose
sound differs from what it saw: real normal cycles in ``../shared/data/icbhi-sample`` carry
2-3 broadband clicks per second (heart valves, stethoscope contact), where synthetic normal cycles
have almost none, and the network calls them crackles (see /work/team/logs and the model card).

The check: five sound statistics per cycle (``respiratory_domain_gap.cycle_sound_statistics``:
broadband clicks per second, the level's swing in three bands, the low-to-high roll-off) are
summarised over the TRAINING cycles as their 1st, 50th and 99th percentiles and written into the
package (``REFERENCE_FILE``, hashed in the manifest like every file). At prediction time the
recording's median over its cycles is compared with those ranges; each statistic outside its
range is named in one sentence with its value, the training range and the unit. The range of
single training cycles is wider than that of recordings' medians, so the check errs towards
silence. It says "unlike the training data", not "wrong": a recording inside every range can
still be misclassified. Packages without the file (older or third-party) are not checked, and
the result says so.

A recording can also be too quiet for the model's spectrogram: its log-mel power has a floor
(``FLOOR_DB``), and where a band lies near it the statistics above are squeezed back into their
range (103 turned down by 30 dB passed) while the model hears silence there. The synthetic
training recordings never come near the floor (median band level about -39 dB); ICBHI 104 at its
own level has a third of its band above 500 Hz there. So the share of each band's spectrogram
within 10 dB of the floor (``floor_shares``) is checked too, against ``FLOOR_SHARE_LIMIT``.
torch-free.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REFERENCE_FILE = "training_sound_statistics.json"
PERCENTILES = (1.0, 50.0, 99.0)
# statistic -> (what a listener calls it, unit, decimals)
STATISTICS: dict[str, tuple[str, str, int]] = {
    "transients_per_s": ("broadband clicks (heart valves, stethoscope contact, crackles)", "/s", 1),
    "spread_db_below_150": ("level swing below 150 Hz (heart sounds)", "dB", 1),
    "spread_db_150_500": ("level swing at 150-500 Hz", "dB", 1),
    "spread_db_above_500": ("level swing above 500 Hz", "dB", 1),
    "low_minus_high_db": ("low-frequency excess (level below 150 Hz over that above 300 Hz, "
                          "from stethoscope and chest wall)", "dB", 1),  # fmt: skip
}


FLOOR_DB = -100.0  # log_mel_db's floor (power 1e-10)
NEAR_FLOOR_DB = FLOOR_DB + 10.0
FLOOR_SHARE_LIMIT = 0.05  # 0 in the synthetic training recordings
BANDS_HZ = {"below 150 Hz": (0.0, 150.0), "at 150-500 Hz": (150.0, 500.0), "above 500 Hz": (500.0, 1e9)}


def floor_shares(log_mels: list[np.ndarray], centres_hz: np.ndarray) -> dict[str, float]:
    """Share (0-1) of each band's spectrogram bins within 10 dB of the floor, over the cycles'
    log-mel spectrograms (dB, (n_mels, frames) each) with band centres ``centres_hz``."""
    out = {}
    for band, (low, high) in BANDS_HZ.items():
        rows = (centres_hz >= low) & (centres_hz < high)
        values = [m[rows].ravel() for m in log_mels if m.size and rows.any()]
        if values:
            out[band] = float(np.mean(np.concatenate(values) <= NEAR_FLOOR_DB))
    return out


def reference_from_cycles(rows: list[dict[str, float]]) -> dict[str, Any]:
    """The training cycles' percentiles of each statistic (what ``REFERENCE_FILE`` holds)."""
    stats = {}
    for key in STATISTICS:
        values = np.asarray([r[key] for r in rows if key in r and np.isfinite(r[key])], dtype=float)
        if values.size:
            low, mid, high = np.percentile(values, PERCENTILES)
            stats[key] = {"low": round(float(low), 3), "median": round(float(mid), 3),
                          "high": round(float(high), 3)}  # fmt: skip
    return {"cycles": len(rows), "percentiles": list(PERCENTILES), "statistics": stats,
            "method": "stethoscan.training.respiratory_domain_gap.cycle_sound_statistics"}  # fmt: skip


def reference_bytes(rows: list[dict[str, float]]) -> bytes:
    return json.dumps(reference_from_cycles(rows), indent=1).encode("utf-8")


def read_reference(package_dir: Path | None) -> dict[str, Any] | None:
    """The package's reference, or None when it has none (the package's hashes were checked
    when it was loaded, so the file is the one its trainer wrote)."""
    if package_dir is None:
        return None
    path = Path(package_dir) / REFERENCE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data.get("statistics"), dict) else None


@dataclass
class Applicability:
    """The outcome of the check for one recording."""

    checked: bool
    cycles: int = 0
    outside: list[dict[str, Any]] = field(default_factory=list)  # key, name, value, low, high, unit
    warning: str | None = None
    note: str | None = None  # why it was not checked

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _phrase(item: dict[str, Any]) -> str:
    d = STATISTICS[item["key"]][2]
    unit = item["unit"]
    gap = "" if unit.startswith("/") else " "
    return (f"{item['name']} {item['value']:.{d}f}{gap}{unit} (98 % of training cycles: "
            f"{item['low']:.{d}f} to {item['high']:.{d}f}{gap}{unit})")  # fmt: skip


def _quiet_phrase(item: dict[str, Any]) -> str:
    return (f"so quiet {item['band']} that {item['value']:.0%} of it lies at the floor of the "
            "model's spectrogram, where the model hears silence (none of its training "
            "recordings was that quiet; more recording gain may help)")  # fmt: skip


def check_recording(rows: list[dict[str, float]], reference: dict[str, Any] | None,
                    parts: str = "cycles", quiet: dict[str, float] | None = None) -> Applicability:  # fmt: skip
    """Compare the recording's cycles (statistics per cycle) with the training reference.

    ``parts`` names the parts ("cycles", or "windows" when no cycle was found); ``quiet`` is
    the recording's ``floor_shares``."""
    if reference is None:
        return Applicability(False, len(rows), note="This model's package holds no reference "
                             "of its training sounds, so the recording could not be compared with them.")  # fmt: skip
    if not rows:
        return Applicability(False, 0, note="No breathing cycle was long enough to compare with "
                             "the model's training sounds.")  # fmt: skip
    outside = []
    for key, ref in reference["statistics"].items():
        if key not in STATISTICS:
            continue
        values = [r[key] for r in rows if key in r and np.isfinite(r[key])]
        if not values:
            continue
        value = float(np.median(values))
        if not ref["low"] <= value <= ref["high"]:
            name, unit, _ = STATISTICS[key]
            outside.append({"key": key, "name": name, "value": round(value, 3), "low": ref["low"],
                            "high": ref["high"], "unit": unit})  # fmt: skip
    for band, share in (quiet or {}).items():
        if share > FLOOR_SHARE_LIMIT:
            outside.append({"key": "floor_share", "band": band, "value": round(share, 3), "low": 0.0,
                            "name": f"share of the spectrogram {band} at its floor",
                            "high": FLOOR_SHARE_LIMIT, "unit": "share of the band"})  # fmt: skip
    warning = None
    if outside:
        phrases = [_quiet_phrase(o) if o["key"] == "floor_share" else _phrase(o) for o in outside]
        # the action first: the details that follow can be long (up to six items)
        warning = ("This recording is unlike the model's training data: its calls on it may be "
                   "wrong; listen to the cycles yourself. What differs (median of its "
                   f"{len(rows)} {parts}): {'; '.join(phrases)}.")  # fmt: skip
    return Applicability(True, len(rows), outside, warning)
