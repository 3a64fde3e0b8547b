"""The ``manifest.toml`` of a model package, as a typed pydantic model (torch-free).

See ``docs/model_packages.md`` for the format. :func:`parse_manifest` and :func:`read_manifest`
raise :class:`~stethoscan.core.errors.ModelPackageError` with ``check="manifest"`` when the
file is not valid TOML or does not follow the schema.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stethoscan.core.errors import ModelPackageError

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.toml"
WEIGHTS_NAME = "weights.safetensors"
CARD_NAME = "card.md"
PIPELINES = (
    "generic_image2d",
    "generic_volume",
    "generic_audio",
    "respiratory_cycles",
    "mci_fusion",
)
InputModality = Literal["scan", "audio", "clinical_scores"]
SaliencyMethod = Literal["gradcam", "ig", "occlusion"]
DISCLAIMER = "Not for diagnostic use"

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelInfo(_Section):
    name: str  # registry key: lower case letters, digits, '.', '_', '-'
    version: str
    task: str
    pipeline: str
    input_modalities: list[InputModality] = Field(min_length=1)
    research_use_only: bool = True
    synthetic_training_data: bool = False
    licence: str
    intended_use: str
    training_data: str
    summary: str
    multi_label: bool = False  # True: one sigmoid per label; False: softmax over labels
    authors: str = ""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError("name must be 1-64 lower-case letters, digits, '.', '_' or '-'")
        return value

    @field_validator("pipeline")
    @classmethod
    def _check_pipeline(cls, value: str) -> str:
        if value not in PIPELINES:
            raise ValueError(f"pipeline must be one of {', '.join(PIPELINES)}")
        return value


class Architecture(_Section):
    id: str
    params: dict[str, Any] = Field(default_factory=dict)


class ScanInput(_Section):
    modalities: list[str] = Field(min_length=1)  # DICOM Modality values, e.g. "MR", "CT"
    dimensions: Literal[2, 3]
    target_spacing_mm: list[float] | None = None  # (slice, row, column) for 3D; (row, column) 2D
    target_shape: list[int]  # voxels (slice, row, column) for 3D; (row, column) for 2D
    normalization: str = "zscore"  # zscore | zscore_brain | minmax | ct_window | none
    normalization_params: dict[str, Any] = Field(default_factory=dict)
    min_slices: int = 1
    body_parts: list[str] = Field(default_factory=list)  # e.g. ["HEAD", "BRAIN"]; empty = any
    channels: int = 1

    @model_validator(mode="after")
    def _check_shape(self) -> ScanInput:
        if len(self.target_shape) != self.dimensions:
            raise ValueError("target_shape must have one entry per dimension")
        if self.target_spacing_mm is not None and len(self.target_spacing_mm) != self.dimensions:
            raise ValueError("target_spacing_mm must have one entry per dimension")
        if any(v <= 0 for v in self.target_shape):
            raise ValueError("target_shape entries must be positive")
        return self


class AudioInput(_Section):
    sample_rate_hz: int = Field(gt=0)
    segment_s: float = Field(gt=0)
    min_duration_s: float = Field(0.0, ge=0)
    feature: str = "log_mel"  # log_mel | mfcc | waveform
    feature_params: dict[str, Any] = Field(default_factory=dict)
    min_sample_rate_hz: int | None = None  # below this a recording cannot be used (refused)


class ClinicalScoresInput(_Section):
    fields: list[str] = Field(min_length=1)
    max_visits: int = Field(1, ge=1)


class InputSpec(_Section):
    scan: ScanInput | None = None
    audio: AudioInput | None = None
    clinical_scores: ClinicalScoresInput | None = None


class OutputLabel(_Section):
    label: str
    description: str


class Calibration(_Section):
    temperature: float = Field(1.0, gt=0)
    method: str = "none"


class SaliencySpec(_Section):
    validated_methods: list[SaliencyMethod] = Field(default_factory=list)
    checks: dict[str, Any] = Field(default_factory=dict)  # free-form sanity-check figures


class Manifest(_Section):
    schema_version: int
    model: ModelInfo
    architecture: Architecture
    input: InputSpec = Field(default_factory=InputSpec)
    outputs: list[OutputLabel] = Field(min_length=1)
    calibration: Calibration = Field(default_factory=Calibration)
    saliency: SaliencySpec = Field(default_factory=SaliencySpec)
    evaluation: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict)

    @field_validator("schema_version")
    @classmethod
    def _check_version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"schema_version {value} is not supported (this program reads 1)")
        return value

    @field_validator("files")
    @classmethod
    def _check_files(cls, value: dict[str, str]) -> dict[str, str]:
        for name, digest in value.items():
            if not _SHA256_RE.match(digest):
                raise ValueError(f"files.{name!r} is not a lower-case hex sha256")
            parts = Path(name).parts
            if Path(name).is_absolute() or ".." in parts or "\\" in name or not parts:
                raise ValueError(f"files.{name!r} must be a relative path inside the package")
        return value

    @model_validator(mode="after")
    def _check_inputs(self) -> Manifest:
        for modality in self.model.input_modalities:
            if getattr(self.input, modality) is None:
                raise ValueError(
                    f"input_modalities lists {modality!r} but [input.{modality}] is missing"
                )
        labels = [o.label for o in self.outputs]
        if len(set(labels)) != len(labels):
            raise ValueError("output labels must be unique")
        return self

    @property
    def labels(self) -> list[str]:
        return [o.label for o in self.outputs]

    @property
    def descriptions(self) -> list[str]:
        return [o.description for o in self.outputs]

    @property
    def disclaimer(self) -> str:
        return DISCLAIMER if self.model.research_use_only else ""


def parse_manifest(data: dict[str, Any] | str) -> Manifest:
    """Validate a manifest given as TOML text or as an already-parsed dict."""
    try:
        raw = tomllib.loads(data) if isinstance(data, str) else data
        return Manifest.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ModelPackageError(
            f"The package manifest is not valid TOML ({exc}); the package is refused. "
            "Ask its provider for a corrected package.",
            check="manifest",
        ) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'manifest'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise ModelPackageError(
            f"The package manifest does not follow the model-package schema ({problems}); "
            "the package is refused. Ask its provider for a corrected package.",
            check="manifest",
        ) from exc


def read_manifest(package_dir: Path) -> Manifest:
    """Read and validate ``package_dir/manifest.toml``."""
    path = Path(package_dir) / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ModelPackageError(
            f"{path.parent.name} has no manifest.toml, so it is not a model package. "
            "Choose the package folder (or its zip) that contains manifest.toml.",
            check="missing_file",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelPackageError(
            f"The manifest of {path.parent.name} cannot be read ({type(exc).__name__}); "
            "the package is refused.",
            check="manifest",
        ) from exc
    return parse_manifest(text)
