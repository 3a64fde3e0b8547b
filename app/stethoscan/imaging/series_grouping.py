"""Group image headers into patients, studies and geometrically consistent series.

A DICOM series (one Series Instance UID) may hold several volumes: localizers in three
orientations, two echoes, dynamic time points, diffusion b-values, stacks of an enhanced
object, or repeated acquisitions at the same positions. Each becomes its own
:class:`SeriesInfo` with the original UID plus ``.1``, ``.2`` ... and a ``split_reason`` for the
user. Orientations, sizes, pixel formats, echoes, time points, stacks and b-values always
separate; acquisition number and trigger time separate only when they resolve slices that share
a position (some scanners give every slice its own acquisition number).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from stethoscan.imaging.model import InstanceRef, PatientInfo, SeriesInfo, StudyInfo
from stethoscan.imaging.series_geometry import (
    FrameAttributes,
    order_slices,
    orientation_label,
    same_orientation,
    slice_normal,
)

SAME_POSITION_MM = 0.01


@dataclass
class ImageHeader:
    """What the indexer keeps of one image: a single-frame file or one frame of a file."""

    path: str
    sop_instance_uid: str
    study_uid: str
    series_uid: str
    rows: int
    columns: int
    frame: int | None = None
    number_of_frames: int = 1
    instance_number: int | None = None
    transfer_syntax_uid: str = ""
    sop_class_uid: str = ""
    patient_id: str = ""
    patient_name: str = ""
    birth_date: str = ""
    sex: str = ""
    study_date: str = ""
    study_description: str = ""
    accession_number: str = ""
    series_number: int | None = None
    series_description: str = ""
    modality: str = ""
    frame_of_reference_uid: str = ""
    samples_per_pixel: int = 1
    bits_allocated: int = 16
    photometric: str = ""
    geometry: FrameAttributes = field(default_factory=FrameAttributes)
    echo_number: int | None = None
    acquisition_number: int | None = None
    trigger_time_ms: float | None = None
    warnings: tuple[str, ...] = ()

    def instance_ref(self) -> InstanceRef:
        return InstanceRef(
            path=self.path,
            sop_instance_uid=self.sop_instance_uid,
            frame=self.frame,
            instance_number=self.instance_number,
            position_mm=self.geometry.position_mm,
            orientation=self.geometry.orientation,
            transfer_syntax_uid=self.transfer_syntax_uid,
            number_of_frames=self.number_of_frames,
        )


@dataclass
class _Part:
    headers: list[ImageHeader]
    labels: list[str] = field(default_factory=list)
    order: tuple = ()


@dataclass(frozen=True)
class _Splitter:
    what: str  # plural noun for the reason: "echoes"
    key: Callable[[ImageHeader], Hashable]
    label: Callable[[ImageHeader], str]


# --- hierarchy -----------------------------------------------------------------------------
def build_patients(headers: Sequence[ImageHeader]) -> list[PatientInfo]:
    """Patients -> studies -> series (split and spatially ordered) from image headers."""
    patients: dict[tuple[str, str], PatientInfo] = {}
    studies: dict[tuple, StudyInfo] = {}
    series_headers: dict[tuple, list[ImageHeader]] = {}
    for header in headers:
        patient_key = (header.patient_id, header.patient_name)
        patient = patients.get(patient_key)
        if patient is None:
            patient = patients[patient_key] = PatientInfo(
                patient_id=header.patient_id, name=header.patient_name,
                birth_date=header.birth_date, sex=header.sex)
        study_key = (patient_key, header.study_uid)
        if study_key not in studies:
            studies[study_key] = StudyInfo(
                study_uid=header.study_uid, date=header.study_date,
                description=header.study_description, accession_number=header.accession_number)
            patient.studies.append(studies[study_key])
        series_headers.setdefault((study_key, header.series_uid), []).append(header)
    for (study_key, _uid), group in series_headers.items():
        studies[study_key].series.extend(split_series(group))
    for patient in patients.values():
        patient.studies.sort(key=lambda s: (s.date, s.description, s.study_uid))
        for study in patient.studies:
            study.series.sort(key=_series_sort_key)
    return sorted(patients.values(), key=lambda p: (p.name, p.patient_id))


def _series_sort_key(series: SeriesInfo) -> tuple:
    number = series.series_number
    return (number is None, number or 0, series.original_series_uid, series.series_uid)


# --- splitting -----------------------------------------------------------------------------
def split_series(headers: list[ImageHeader]) -> list[SeriesInfo]:
    """One or more :class:`SeriesInfo` for the images of one Series Instance UID."""
    parts = [_Part(headers=list(headers))]
    mixed: list[str] = []
    for splitter in _always_splitters(headers):
        parts = _apply(parts, splitter, mixed)
    parts = [piece for part in parts for piece in _split_repeated_positions(part, mixed)]
    parts.sort(key=lambda p: p.order)
    original = headers[0].series_uid
    if len(parts) == 1:
        return [_series_info(parts[0].headers, original, "", "")]
    reason = f"The original series mixes {_join(mixed)}"
    labels = [", ".join(part.labels) for part in parts]
    repeated = {label for label in labels if labels.count(label) > 1}
    result = []
    for number, (part, label) in enumerate(zip(parts, labels, strict=True), start=1):
        if label in repeated:
            label = f"{label} (part {number})"
        result.append(_series_info(part.headers, f"{original}.{number}",
                                   f"{reason}; this part holds {label}.", label))
    return result


def _join(words: list[str]) -> str:
    unique = list(dict.fromkeys(words))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]


def _apply(parts: list[_Part], splitter: _Splitter, mixed: list[str]) -> list[_Part]:
    result = []
    for part in parts:
        groups = _partition(part.headers, splitter.key)
        if len(groups) == 1:
            result.append(part)
            continue
        mixed.append(splitter.what)
        for key, members in groups.items():
            result.append(_Part(members, [*part.labels, splitter.label(members[0])],
                                (*part.order, _sortable(key))))
    return result


def _sortable(key: Hashable) -> tuple:
    """Sort keys that may hold None next to numbers and strings."""
    items = key if isinstance(key, tuple) else (key,)
    return tuple((v is None, v if isinstance(v, int | float) else 0, str(v)) for v in items)


def _partition(headers: list[ImageHeader], key: Callable[[ImageHeader], Hashable]
               ) -> dict[Hashable, list[ImageHeader]]:
    groups: dict[Hashable, list[ImageHeader]] = {}
    for header in headers:
        groups.setdefault(key(header), []).append(header)
    return groups


def _always_splitters(headers: list[ImageHeader]) -> list[_Splitter]:
    orientation_key = _orientation_clusters(headers)
    return [
        _Splitter("image sizes", _size_key, _size_label),
        _Splitter("pixel formats", lambda h: (h.samples_per_pixel, h.bits_allocated),
                  lambda h: "colour" if h.samples_per_pixel > 1 else f"{h.bits_allocated}-bit"),
        _Splitter("orientations", orientation_key,
                  lambda h: orientation_label(h.geometry.orientation)),
        _Splitter("echoes", _echo_key, _echo_label),
        _Splitter("time points", lambda h: h.geometry.temporal_index,
                  lambda h: _optional_label("time point", h.geometry.temporal_index,
                                            "no time point")),
        _Splitter("stacks", lambda h: h.geometry.stack_id,
                  lambda h: _optional_label("stack", h.geometry.stack_id, "no stack")),
        _Splitter("diffusion b-values", lambda h: h.geometry.b_value,
                  lambda h: f"b = {h.geometry.b_value:g} s/mm²"
                  if h.geometry.b_value is not None else "no b-value"),
    ]


def _size_key(header: ImageHeader) -> Hashable:
    spacing = header.geometry.pixel_spacing_mm
    rounded = tuple(round(v, 3) for v in spacing) if spacing else None
    return (header.rows, header.columns, rounded)


def _size_label(header: ImageHeader) -> str:
    label = f"{header.columns}×{header.rows} pixels"
    spacing = header.geometry.pixel_spacing_mm
    return f"{label} of {spacing[0]:.3g}×{spacing[1]:.3g} mm" if spacing else label


def _echo_key(header: ImageHeader) -> Hashable:
    te = header.geometry.echo_time_ms
    return (header.echo_number, round(te, 3) if te is not None else None)


def _echo_label(header: ImageHeader) -> str:
    number, te = header.echo_number, header.geometry.echo_time_ms
    if number is not None and te is not None:
        return f"echo {number} (TE {te:g} ms)"
    if number is not None:
        return f"echo {number}"
    return f"TE {te:g} ms" if te is not None else "no echo time"


def _optional_label(prefix: str, value: object, missing: str) -> str:
    return f"{prefix} {value}" if value not in (None, "") else missing


def _orientation_clusters(headers: list[ImageHeader]) -> Callable[[ImageHeader], Hashable]:
    """Key function: index of the orientation cluster (cosines within 1e-3) of a header."""
    centres: list[tuple[float, ...]] = []
    cluster: dict[int, int] = {}
    for header in headers:
        orientation = header.geometry.orientation
        if orientation is None:
            continue
        for number, centre in enumerate(centres):
            if same_orientation(orientation, centre):  # type: ignore[arg-type]
                cluster[id(header)] = number
                break
        else:
            cluster[id(header)] = len(centres)
            centres.append(orientation)
    return lambda h: cluster.get(id(h), -1)


# --- repeated positions --------------------------------------------------------------------
def _split_repeated_positions(part: _Part, mixed: list[str]) -> list[_Part]:
    """Separate slices that share a position: by acquisition, trigger time, else by repeat."""
    position_ids = _position_ids(part.headers)
    if position_ids is None or len(set(position_ids.values())) == len(part.headers):
        return [part]
    candidates = [
        _Splitter("acquisitions", lambda h: h.acquisition_number,
                  lambda h: f"acquisition {h.acquisition_number}"),
        _Splitter("trigger times (cardiac phases)", lambda h: h.trigger_time_ms,
                  lambda h: f"trigger time {h.trigger_time_ms:g} ms"),
    ]
    for splitter in candidates:
        groups = _partition(part.headers, splitter.key)
        if len(groups) > 1 and all(_distinct_positions(g, position_ids) for g in groups.values()):
            return _apply([part], splitter, mixed)
    repeat = _repeat_numbers(part.headers, position_ids)
    splitter = _Splitter("slices repeated at the same positions", lambda h: repeat[id(h)],
                         lambda h: f"copy {repeat[id(h)]} of each position")
    return _apply([part], splitter, mixed)


def _position_ids(headers: list[ImageHeader]) -> dict[int, int] | None:
    """Same id for images in the same plane (within 0.01 mm along the normal); None if unknown."""
    geometry = [h.geometry for h in headers]
    if any(g.position_mm is None or g.orientation is None for g in geometry):
        return None
    normal = slice_normal(geometry[0].orientation)  # type: ignore[arg-type]
    along = np.array([g.position_mm for g in geometry], dtype=float) @ normal
    order = np.argsort(along, kind="stable")
    ids: dict[int, int] = {}
    current, previous = -1, None
    for k in order:
        if previous is None or along[k] - previous > SAME_POSITION_MM:
            current += 1
        ids[id(headers[k])] = current
        previous = along[k]
    return ids


def _distinct_positions(headers: list[ImageHeader], position_ids: dict[int, int]) -> bool:
    ids = [position_ids[id(h)] for h in headers]
    return len(ids) == len(set(ids))


def _repeat_numbers(headers: list[ImageHeader], position_ids: dict[int, int]) -> dict[int, int]:
    """1 for the first image at each position (by instance number), 2 for the next..."""
    seen: Counter[int] = Counter()
    repeat: dict[int, int] = {}
    for header in sorted(headers, key=_instance_order):
        position = position_ids[id(header)]
        seen[position] += 1
        repeat[id(header)] = seen[position]
    return repeat


def _instance_order(header: ImageHeader) -> tuple:
    number = header.instance_number
    return (number is None, number or 0, header.path, header.frame or 0)


# --- series --------------------------------------------------------------------------------
def _series_info(headers: list[ImageHeader], series_uid: str, split_reason: str,
                 split_label: str) -> SeriesInfo:
    first = headers[0]
    geometry = order_slices([h.instance_ref() for h in headers])
    warnings = list(dict.fromkeys(w for h in headers for w in h.warnings))
    return SeriesInfo(
        series_uid=series_uid,
        study_uid=first.study_uid,
        modality=first.modality,
        description=first.series_description,
        series_number=first.series_number,
        rows=first.rows,
        columns=first.columns,
        pixel_spacing_mm=first.geometry.pixel_spacing_mm,
        slice_spacing_mm=geometry.slice_spacing_mm,
        orientation=geometry.orientation,
        photometric=_most_common(h.photometric for h in headers),
        transfer_syntax_uid=_most_common(h.transfer_syntax_uid for h in headers),
        instances=geometry.instances,
        warnings=[*warnings, *geometry.warnings],
        split_reason=split_reason,
        original_series_uid=first.series_uid,
        split_label=split_label,
        frame_of_reference_uid=first.frame_of_reference_uid,
        slice_thickness_mm=first.geometry.slice_thickness_mm,
    )


def _most_common(values) -> str:
    counts = Counter(values)
    return counts.most_common(1)[0][0] if counts else ""
