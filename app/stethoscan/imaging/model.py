"""What an indexed DICOM collection looks like: patients -> studies -> series -> instances.

Produced by the header indexer (no pixel data read), consumed by the volume loader, the
browser in the GUI and ``stethoscan dicom scan --json``. Lengths in mm.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SkippedFile:
    """A file that was not loaded, and why (a sentence for the user)."""

    path: str
    reason: str


@dataclass
class InstanceRef:
    """One image (a file, or one frame of a multi-frame file) of a series."""

    path: str  # file on disk (archives are extracted to a cache folder first)
    sop_instance_uid: str
    frame: int | None = None  # 0-based frame index in a multi-frame file; None = single frame
    instance_number: int | None = None
    position_mm: tuple[float, float, float] | None = None  # ImagePositionPatient
    orientation: tuple[float, float, float, float, float, float] | None = None  # row, column cosines
    transfer_syntax_uid: str = ""
    number_of_frames: int = 1  # frames in the file this image comes from


@dataclass
class SeriesInfo:
    """A geometrically consistent series: one volume (or a stack of 2D images)."""

    series_uid: str  # for split series: original UID plus a suffix such as ".1"
    study_uid: str
    modality: str = ""
    description: str = ""
    series_number: int | None = None
    rows: int = 0
    columns: int = 0
    pixel_spacing_mm: tuple[float, float] | None = None  # (row spacing, column spacing)
    slice_spacing_mm: float | None = None  # from positions along the slice normal
    orientation: tuple[float, float, float, float, float, float] | None = None
    photometric: str = ""
    transfer_syntax_uid: str = ""
    instances: list[InstanceRef] = field(default_factory=list)  # ordered along the slice normal
    warnings: list[str] = field(default_factory=list)  # e.g. gantry tilt, uneven spacing, gaps
    split_reason: str = ""  # why this series was split from its original UID, if it was
    original_series_uid: str = ""  # SeriesInstanceUID in the files (differs from series_uid if split)
    split_label: str = ""  # short label of a split part, e.g. "echo 2 (TE 20 ms)"
    frame_of_reference_uid: str = ""
    slice_thickness_mm: float | None = None  # as stated in the header (not measured)

    @property
    def number_of_slices(self) -> int:
        return len(self.instances)

    @property
    def number_of_instances(self) -> int:
        """Distinct DICOM instances (files); a multi-frame file counts once."""
        return len({i.sop_instance_uid for i in self.instances})


@dataclass
class StudyInfo:
    study_uid: str
    date: str = ""  # YYYYMMDD as in DICOM
    description: str = ""
    accession_number: str = ""
    series: list[SeriesInfo] = field(default_factory=list)


@dataclass
class PatientInfo:
    """Identifiers here are shown in the GUI and never logged."""

    patient_id: str
    name: str = ""
    birth_date: str = ""
    sex: str = ""
    studies: list[StudyInfo] = field(default_factory=list)


@dataclass
class ScanIndex:
    """The result of indexing a path: what loads, and what was skipped with its reason."""

    patients: list[PatientInfo] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "The DICOMDIR was broken; scanned instead"

    def all_series(self) -> list[SeriesInfo]:
        return [s for p in self.patients for st in p.studies for s in st.series]

    def find_series(self, series_uid: str) -> SeriesInfo | None:
        for series in self.all_series():
            if series.series_uid == series_uid:
                return series
        return None
