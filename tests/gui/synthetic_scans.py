"""Synthetic volumes, series and indexes with known values for the viewer tests (no DICOM I/O).

The CT volume is int16 stored values with slope 1 and intercept -1024, so HU = stored - 1024:
air -1000 HU everywhere, a 40 HU block and a 1000 HU block at known voxels.
"""

from __future__ import annotations

import time

import numpy as np

from stethoscan.imaging.model import (
    InstanceRef,
    PatientInfo,
    ScanIndex,
    SeriesInfo,
    SkippedFile,
    StudyInfo,
)
from stethoscan.imaging.volume import Volume

CT_SHAPE = (20, 64, 48)  # slices (k), rows (j), columns (i)
CT_SPACING = (2.5, 0.5, 0.8)  # mm between slices, rows, columns
SOFT_BLOCK = (slice(5, 15), slice(10, 30), slice(8, 24))  # 40 HU
BONE_BLOCK = (slice(5, 15), slice(40, 50), slice(30, 40))  # 1000 HU


def ct_voxels(shape: tuple[int, int, int] = CT_SHAPE) -> np.ndarray:
    hu = np.full(shape, -1000, dtype=np.int16)
    hu[SOFT_BLOCK] = 40
    hu[BONE_BLOCK] = 1000
    return (hu + 1024).astype(np.int16)


def ct_volume(shape: tuple[int, int, int] = CT_SHAPE, loaded: np.ndarray | None = None) -> Volume:
    """An axial CT volume in the identity orientation (i -> L, j -> P, k -> S)."""
    return Volume(
        voxels=ct_voxels(shape), spacing_mm=CT_SPACING, origin_mm=(-10.0, -20.0, 30.0),
        slope=1.0, intercept=-1024.0, modality="CT", units="HU", series_uid="1.2.3.4",
        default_window=(40.0, 400.0), loaded=loaded,
    )


def series_for(n_slices: int, uid: str = "1.2.3.4", modality: str = "CT", description: str = "Head",
               paths: list[str] | None = None, warnings: list[str] | None = None) -> SeriesInfo:
    instances = [
        InstanceRef(path=(paths[k] if paths else f"/nonexistent/{uid}/{k:04d}.dcm"),
                    sop_instance_uid=f"{uid}.{k + 1}", instance_number=k + 1,
                    position_mm=(0.0, 0.0, 2.5 * k))
        for k in range(n_slices)
    ]
    return SeriesInfo(series_uid=uid, study_uid="1.2.3", modality=modality, description=description,
                      series_number=2, rows=CT_SHAPE[1], columns=CT_SHAPE[2],
                      pixel_spacing_mm=(0.5, 0.8), slice_spacing_mm=2.5,
                      instances=instances, warnings=list(warnings or []))


def index_with(series: list[SeriesInfo], skipped: list[SkippedFile] | None = None,
               patient_name: str = "TEST^Alice", patient_id: str = "P001") -> ScanIndex:
    study = StudyInfo(study_uid="1.2.3", date="20240131", description="CT head", series=series)
    patient = PatientInfo(patient_id=patient_id, name=patient_name, birth_date="19500101", sex="F",
                          studies=[study])
    return ScanIndex(patients=[patient], skipped=list(skipped or []))


def progressive_loader(voxels: np.ndarray, delay_s: float = 0.0, **volume_args):
    """A ``load_volume`` stand-in: the first slice, then the rest with ``delay_s`` each."""

    def load(series: SeriesInfo, task, first_index: int | None = None) -> Volume:
        count = voxels.shape[0]
        first = count // 2 if first_index is None else first_index
        volume = Volume(voxels=np.zeros_like(voxels), spacing_mm=CT_SPACING,
                        loaded=np.zeros(count, dtype=bool), **volume_args)
        volume.voxels[first] = voxels[first]
        volume.loaded[first] = True
        task.partial((first, volume))
        for n, k in enumerate(k for k in range(count) if k != first):
            task.check_cancelled()
            time.sleep(delay_s)
            volume.voxels[k] = voxels[k]
            volume.loaded[k] = True
            task.progress((n + 2) / count, f"slice {k + 1}")
        return volume

    return load


def indexer(index: ScanIndex):
    """An ``index_paths`` stand-in that returns ``index``."""

    def index_paths(paths, task):
        task.progress(1.0, "done")
        return index

    return index_paths
