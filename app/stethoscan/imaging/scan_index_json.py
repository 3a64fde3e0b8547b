"""A :class:`ScanIndex` as plain JSON-able data, for ``stethoscan dicom scan --json``.

Format ``stethoscan-scan-index/1``::

    {
      "format": "stethoscan-scan-index/1",
      "summary": {"patients": 1, "studies": 1, "series": 1, "images": 384, "skipped": 1},
      "patients": [{
        "patient_id": "...", "name": "...", "birth_date": "YYYYMMDD", "sex": "F",
        "studies": [{
          "study_uid": "...", "date": "YYYYMMDD", "description": "...", "accession_number": "",
          "series": [{
            "series_uid": "1.2.3" or "1.2.3.1" for a split part,
            "original_series_uid": "1.2.3", "split_reason": "", "split_label": "",
            "series_number": 401, "modality": "MR", "description": "...",
            "number_of_instances": 384,   # files (a multi-frame file counts once)
            "number_of_slices": 384,      # images: frames of multi-frame files count each
            "rows": 384, "columns": 274,
            "voxel_spacing_mm": [slice, row, column],  # slice is null when unknown
            "slice_thickness_mm": 0.67,
            "orientation": [row x, y, z, column x, y, z] or null, "plane": "sagittal",
            "first_position_mm": [x, y, z] or null, "last_position_mm": [x, y, z] or null,
            "photometric": "MONOCHROME2", "transfer_syntax_uid": "...", "transfer_syntax": "...",
            "warnings": ["Gantry tilt of 15.0°: ..."]
          }]
        }]
      }],
      "skipped": [{"path": "...", "shown_as": "...", "reason": "Not a DICOM file: it is a text file."}],
      "notes": ["The DICOMDIR in ... is broken (...); the folder was scanned ... instead."]
    }

Positions are patient coordinates (DICOM LPS) in mm; row spacing is the distance between
rows (the first value of Pixel Spacing).
"""

from __future__ import annotations

from typing import Any

from stethoscan.imaging.dicom_sources import display_path
from stethoscan.imaging.model import PatientInfo, ScanIndex, SeriesInfo, StudyInfo
from stethoscan.imaging.series_geometry import plane_name

FORMAT = "stethoscan-scan-index/1"


def scan_index_to_dict(index: ScanIndex) -> dict[str, Any]:
    """The whole index as JSON-able data (see the module docstring for the format)."""
    series = index.all_series()
    return {
        "format": FORMAT,
        "summary": {
            "patients": len(index.patients),
            "studies": sum(len(p.studies) for p in index.patients),
            "series": len(series),
            "images": sum(s.number_of_slices for s in series),
            "skipped": len(index.skipped),
        },
        "patients": [_patient(p) for p in index.patients],
        "skipped": [{"path": s.path, "shown_as": display_path(s.path), "reason": s.reason}
                    for s in index.skipped],
        "notes": list(index.notes),
    }


def _patient(patient: PatientInfo) -> dict[str, Any]:
    return {
        "patient_id": patient.patient_id,
        "name": patient.name,
        "birth_date": patient.birth_date,
        "sex": patient.sex,
        "studies": [_study(s) for s in patient.studies],
    }


def _study(study: StudyInfo) -> dict[str, Any]:
    return {
        "study_uid": study.study_uid,
        "date": study.date,
        "description": study.description,
        "accession_number": study.accession_number,
        "series": [series_to_dict(s) for s in study.series],
    }


def series_to_dict(series: SeriesInfo) -> dict[str, Any]:
    """One series as JSON-able data."""
    pixel = series.pixel_spacing_mm
    first = series.instances[0].position_mm if series.instances else None
    last = series.instances[-1].position_mm if series.instances else None
    return {
        "series_uid": series.series_uid,
        "original_series_uid": series.original_series_uid or series.series_uid,
        "split_reason": series.split_reason,
        "split_label": series.split_label,
        "series_number": series.series_number,
        "modality": series.modality,
        "description": series.description,
        "number_of_instances": series.number_of_instances,
        "number_of_slices": series.number_of_slices,
        "rows": series.rows,
        "columns": series.columns,
        "voxel_spacing_mm": [
            _round(series.slice_spacing_mm),
            _round(pixel[0]) if pixel else None,
            _round(pixel[1]) if pixel else None,
        ],
        "slice_thickness_mm": _round(series.slice_thickness_mm),
        "orientation": [_round(v) for v in series.orientation] if series.orientation else None,
        "plane": plane_name(series.orientation),
        "first_position_mm": [_round(v) for v in first] if first else None,
        "last_position_mm": [_round(v) for v in last] if last else None,
        "photometric": series.photometric,
        "transfer_syntax_uid": series.transfer_syntax_uid,
        "transfer_syntax": _syntax_name(series.transfer_syntax_uid),
        "warnings": list(series.warnings),
    }


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def _syntax_name(uid: str) -> str:
    if not uid:
        return ""
    from pydicom.uid import UID

    name = UID(uid).name
    return name if name != uid else "unknown transfer syntax"


def scan_index_to_text(index: ScanIndex) -> str:
    """A short human-readable listing (the default output of ``stethoscan dicom scan``)."""
    lines: list[str] = []
    for patient in index.patients:
        lines.append(f"Patient {patient.name or '(no name)'}  ID {patient.patient_id or '-'}")
        for study in patient.studies:
            lines.append(f"  Study {study.date or '-'}  {study.description}  {study.study_uid}")
            for series in study.series:
                lines.extend(_series_lines(series))
    if index.skipped:
        lines.append(f"Skipped {len(index.skipped)} files:")
        lines.extend(f"  {display_path(s.path)}: {s.reason}" for s in index.skipped)
    lines.extend(f"Note: {note}" for note in index.notes)
    return "\n".join(lines) if lines else "No DICOM images found."


def _series_lines(series: SeriesInfo) -> list[str]:
    spacing = series_to_dict(series)["voxel_spacing_mm"]
    spacing_text = " x ".join("?" if v is None else f"{v:g}" for v in spacing)
    lines = [
        f"    Series {series.series_number if series.series_number is not None else '-'} "
        f"{series.modality} {series.description!r}: {series.number_of_slices} images "
        f"{series.columns}x{series.rows}, spacing {spacing_text} mm "
        f"{plane_name(series.orientation)}  {series.series_uid}"
    ]
    if series.split_reason:
        lines.append(f"      split: {series.split_reason}")
    lines.extend(f"      warning: {w}" for w in series.warnings)
    return lines
