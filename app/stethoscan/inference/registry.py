"""The model registry: bundled packages (``models/``) and user-installed ones (user data dir).

Torch-free except :func:`verify` (deep checks build the architecture). Names are unique across
both places: installing a package whose name is bundled is refused.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from stethoscan.core import paths
from stethoscan.core.errors import ModelPackageError
from stethoscan.inference.package_loader import VerifiedPackage, package_folder, verify_package
from stethoscan.inference.package_manifest import MANIFEST_NAME, Manifest, read_manifest

Source = Literal["bundled", "user"]


@dataclass
class PackageEntry:
    """One package as the registry lists it (the manifest is read, weights are not loaded)."""

    name: str
    version: str
    task: str
    pipeline: str
    input_modalities: list[str]
    source: Source
    path: Path
    summary: str = ""
    research_use_only: bool = True
    synthetic_training_data: bool = False
    labels: list[str] = field(default_factory=list)
    scan_modalities: list[str] = field(default_factory=list)
    scan_dimensions: int | None = None
    validated_saliency_methods: list[str] = field(default_factory=list)
    manifest: Manifest | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("manifest")
        data["path"] = str(self.path)
        return data


def _entry(path: Path, source: Source) -> PackageEntry:
    manifest = read_manifest(path)
    model = manifest.model
    scan = manifest.input.scan
    return PackageEntry(
        name=model.name, version=model.version, task=model.task, pipeline=model.pipeline,
        input_modalities=list(model.input_modalities), source=source, path=path,
        summary=model.summary, research_use_only=model.research_use_only,
        synthetic_training_data=model.synthetic_training_data, labels=manifest.labels,
        scan_modalities=list(scan.modalities) if scan else [],
        scan_dimensions=scan.dimensions if scan else None,
        validated_saliency_methods=list(manifest.saliency.validated_methods), manifest=manifest,
    )  # fmt: skip


def _package_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST_NAME).is_file())


def list_packages(problems: list[str] | None = None) -> list[PackageEntry]:
    """Every readable package, bundled first. Unreadable manifests go to ``problems``."""
    entries = []
    for source, root in (
        ("bundled", paths.bundled_models_dir()),
        ("user", paths.user_models_dir()),
    ):
        for folder in _package_dirs(root):
            try:
                entries.append(_entry(folder, source))  # type: ignore[arg-type]
            except ModelPackageError as exc:
                if problems is not None:
                    problems.append(f"{folder.name}: {exc}")
    return entries


def find_package(name: str) -> PackageEntry:
    """The package called ``name``; a clear error listing the known names otherwise."""
    entries = list_packages()
    for entry in entries:
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in entries) or "none installed"
    raise ModelPackageError(
        f"No model package is called {name!r} (known: {known}). Install it with "
        "`stethoscan models install PATH` or pick another model.",
        check="not_found",
    )


def models_for_input(kind: str, modality: str | None = None, dimensions: int | None = None,
                     ) -> list[PackageEntry]:  # fmt: skip
    """Packages that accept an input of ``kind`` ("scan", "audio", "clinical_scores").

    For scans, ``modality`` (DICOM Modality, e.g. "MR") and ``dimensions`` (2 or 3) narrow the
    list when given. Packages needing further inputs are still listed; their pipeline reports
    what is missing.
    """
    fitting = []
    for entry in list_packages():
        if kind not in entry.input_modalities:
            continue
        if kind == "scan" and modality and entry.scan_modalities:
            if modality.upper() not in [m.upper() for m in entry.scan_modalities]:
                continue
        if (
            kind == "scan"
            and dimensions is not None
            and entry.scan_dimensions not in (None, dimensions)
        ):
            # a 2D model still fits one slice of a volume; a 3D model does not fit a single image
            if not (entry.scan_dimensions == 2 and dimensions == 3):
                continue
        fitting.append(entry)
    return fitting


def card_text(name: str) -> str:
    """The model card (Markdown) of a package."""
    entry = find_package(name)
    return (entry.path / "card.md").read_text(encoding="utf-8")


def verify(name: str) -> VerifiedPackage:
    """Run every check on an installed or bundled package (audit-logged)."""
    return verify_package(find_package(name).path, deep=True, action="verify")


def install(source: Path, replace: bool = False) -> PackageEntry:
    """Verify a package folder or zip, then copy it into the user models folder."""
    verified = verify_package(Path(source), deep=True, action="install")
    name = verified.name
    for entry in list_packages():
        if entry.name == name and entry.source == "bundled":
            raise ModelPackageError(
                f"A bundled model is already called {name!r}; a package cannot replace it. "
                "Rename the model in its manifest and rebuild the package.",
                check="registry",
            )
    target = paths.user_models_dir() / name
    if target.exists() and not replace:
        raise ModelPackageError(
            f"A model called {name!r} is already installed; remove it first "
            f"(`stethoscan models remove {name}`) or install with replace.",
            check="registry",
        )
    staging = target.with_name(f".{name}.installing")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(verified.path, staging)
    # what was copied is what was checked
    verify_package(staging, deep=False, action="install-copy")
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    _forget_cached_models()
    return _entry(target, "user")


def remove(name: str) -> Path:
    """Delete a user-installed package; bundled packages cannot be removed."""
    entry = find_package(name)
    if entry.source != "user":
        raise ModelPackageError(
            f"{name!r} is bundled with Stethoscan and cannot be removed; only models you "
            "installed can be.",
            check="registry",
        )
    shutil.rmtree(entry.path)
    _forget_cached_models()
    return entry.path


def _forget_cached_models() -> None:
    import sys

    runtime = sys.modules.get("stethoscan.inference.runtime")  # only if torch was loaded already
    if runtime is not None:
        runtime.clear_model_cache()


__all__ = [
    "PackageEntry", "list_packages", "find_package", "models_for_input", "card_text", "verify",
    "install", "remove", "package_folder",
]  # fmt: skip
