"""Which model packages fit the data in front of the clinician (Qt-free, torch-free).

The data is the open volume (with its series), the selected recording and the patient's visits
with cognitive scores. A package fits when at least one of its inputs is there and matches:
a scan model needs the series' modality and a compatible dimension (a 2D model runs on one
slice of a volume; a 3D model never on a single image).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INPUT_NAMES = {"scan": "scan", "audio": "recording", "clinical_scores": "cognitive scores"}


@dataclass
class DataInFront:
    """What the clinician has open: any part may be missing."""

    volume: Any = None  # imaging.volume.Volume
    series: Any = None  # imaging.model.SeriesInfo
    recording: Any = None  # records.patient_store.Recording
    patient: Any = None  # records.patient_store.Patient
    visits: list[Any] = field(default_factory=list)  # records.patient_store.Visit

    @property
    def modality(self) -> str:
        series_modality = getattr(self.series, "modality", "") or ""
        return (getattr(self.volume, "modality", "") or series_modality).upper()

    @property
    def dimensions(self) -> int | None:
        if self.volume is None:
            return None
        return 3 if self.volume.shape[0] > 1 else 2

    @property
    def scored_visits(self) -> list[Any]:
        return [v for v in self.visits if v.mmse is not None or v.moca is not None]

    def describe(self) -> list[str]:
        """One line per input that is there, for the panel's header."""
        lines = []
        if self.volume is not None:
            nk, nj, ni = self.volume.shape
            text = getattr(self.series, "description", "") or "series"
            lines.append(f"Scan: {self.modality or '?'} '{text}', {nk} x {nj} x {ni} voxels")
        if self.recording is not None:
            name = getattr(self.recording, "task", "") or "recording"
            lines.append(f"Recording: {name} take {self.recording.take}, "
                         f"{self.recording.duration_s:.1f} s at {self.recording.sample_rate_hz} Hz")
        if self.scored_visits:
            n = len(self.scored_visits)
            lines.append(f"Cognitive scores: {n} visit{'s' if n != 1 else ''}")
        return lines


@dataclass
class ModelOffer:
    """A package and what it would use of the data in front of the clinician."""

    entry: Any  # inference.registry.PackageEntry
    inputs: list[str]  # the package's inputs that are present and match, in manifest order
    reason: str = ""  # why it does not fit ("" when it does)

    @property
    def fits(self) -> bool:
        return bool(self.inputs)

    @property
    def name(self) -> str:
        return self.entry.name

    def inputs_text(self) -> str:
        return " + ".join(INPUT_NAMES.get(i, i) for i in self.inputs)


def _scan_mismatch(entry: Any, data: DataInFront) -> str:
    """Why the open scan does not fit ``entry`` ("" when it does)."""
    if data.volume is None:
        return "no scan is open"
    wanted = [m.upper() for m in entry.scan_modalities]
    if wanted and data.modality and data.modality not in wanted:
        return f"needs {' or '.join(wanted)}; the open series is {data.modality}"
    if entry.scan_dimensions == 3 and data.dimensions == 2:
        return "needs a 3D volume; the open series is a single image"
    return ""


def _present(entry: Any, kind: str, data: DataInFront) -> str:
    """Why input ``kind`` of ``entry`` is not usable ("" when it is)."""
    if kind == "scan":
        return _scan_mismatch(entry, data)
    if kind == "audio":
        return "" if data.recording is not None else "no recording is selected"
    if kind == "clinical_scores":
        return "" if data.scored_visits else "the patient has no visits with MMSE or MoCA"
    return f"the input {kind!r} is not known to this version"


def offer_for(entry: Any, data: DataInFront) -> ModelOffer:
    """Which of ``entry``'s inputs the data provides, or why none does."""
    used, reasons = [], []
    for kind in entry.input_modalities:
        reason = _present(entry, kind, data)
        if reason:
            reasons.append(reason)
        else:
            used.append(kind)
    reason = "; ".join(reasons)
    return ModelOffer(entry, used, "" if used else reason[:1].upper() + reason[1:] + ".")


def model_offers(entries: list[Any], data: DataInFront) -> list[ModelOffer]:
    """An offer per package; fitting ones first (bundled before user-installed, by name)."""
    offers = [offer_for(entry, data) for entry in entries]
    return sorted(offers, key=lambda o: (not o.fits, o.entry.source != "bundled", o.name))


def gather_data(context: Any) -> DataInFront:
    """The data in front of the clinician, from the :class:`AppContext`."""
    visits = []
    if context.patient is not None:
        visits = context.store.list_visits(context.patient.id)
    return DataInFront(volume=context.volume, series=context.series, recording=context.recording,
                       patient=context.patient, visits=visits)  # fmt: skip
