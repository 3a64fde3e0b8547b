"""Verify and load model packages: nothing in a package is ever executed.

:func:`verify_package` runs every check and returns a :class:`VerifiedPackage`;
:func:`load_state_dict` reads the weights (safetensors only) into tensors for the runtime.
Each refusal raises :class:`ModelPackageError` whose ``check`` names the failed check:
``missing_file``, ``manifest``, ``path``, ``unlisted_file``, ``file_type``, ``pickle``,
``torchscript``, ``sha256``, ``header``, ``dtype``, ``nan``, ``architecture``, ``shape``, ``zip``.
Every verification writes one JSON line to ``paths.log_dir()/"model-audit.log"``.
torch is imported only for the architecture/shape check and for loading tensors.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from stethoscan.core import paths
from stethoscan.core.errors import ModelPackageError
from stethoscan.inference import package_content_checks as content
from stethoscan.inference.package_manifest import (
    CARD_NAME,
    MANIFEST_NAME,
    WEIGHTS_NAME,
    Manifest,
    read_manifest,
)

AUDIT_LOG_NAME = "model-audit.log"
MAX_ZIP_BYTES = 2 * 1024**3  # uncompressed; a model package is a few MB
MAX_ZIP_MEMBERS = 1000


@dataclass
class VerifiedPackage:
    """A package folder whose files passed every check."""

    path: Path
    manifest: Manifest
    weights_sha256: str
    tensor_shapes: dict[str, list[int]] = field(default_factory=dict)
    deep: bool = True  # False: architecture/shape/NaN checks were skipped (quick listing)

    @property
    def name(self) -> str:
        return self.manifest.model.name

    @property
    def version(self) -> str:
        return self.manifest.model.version

    def card_text(self) -> str:
        return (self.path / CARD_NAME).read_text(encoding="utf-8")


# --- audit log --------------------------------------------------------------------------------
def audit_log_path() -> Path:
    return paths.log_dir() / AUDIT_LOG_NAME


def write_audit_line(action: str, source: Path, manifest: Manifest | None, weights_sha256: str,
                     error: ModelPackageError | None) -> None:  # fmt: skip
    """Append one JSON line: time, action, package name/version, weights sha256, result."""
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "action": action,
        "source": str(source),
        "name": manifest.model.name if manifest else None,
        "version": manifest.model.version if manifest else None,
        "weights_sha256": weights_sha256 or None,
        "result": "refused" if error else "ok",
        "check": error.check if error else None,
        "message": str(error) if error else None,
    }
    with open(audit_log_path(), "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


# --- zip packages -------------------------------------------------------------------------------
def extract_zip_package(zip_path: Path, cache_dir: Path | None = None) -> Path:
    """Extract a zipped package safely (no traversal, links or bombs); return its folder."""
    zip_path = Path(zip_path)
    digest = content.sha256_file(zip_path)
    target = (cache_dir or paths.data_dir() / "cache" / "model-packages") / digest[:20]
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = _safe_members(archive, zip_path.name)
            _extract_members(archive, members, target)  # afresh: a cached copy may be altered
    except zipfile.BadZipFile as exc:
        raise ModelPackageError(
            f"{zip_path.name} is not a readable zip file ({exc}); choose the package folder or "
            "an intact zip.",
            check="zip",
        ) from exc
    return _package_root(target, zip_path.name)


def _safe_members(archive: zipfile.ZipFile, label: str) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    names = [i.filename for i in infos]
    markers = content.torch_zip_markers(names)
    if markers:
        raise ModelPackageError(
            f"{label} is a torch.save/TorchScript/torch.export archive ({', '.join(markers[:3])}), "
            "not a model package; it could run code when loaded and is refused.",
            check="torchscript",
        )
    if len(infos) > MAX_ZIP_MEMBERS or sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
        raise ModelPackageError(f"{label} is too large to be a model package.", check="zip")
    for info in infos:
        pure = PurePosixPath(info.filename)
        mode = info.external_attr >> 16
        if pure.is_absolute() or ".." in pure.parts or "\\" in info.filename or stat.S_ISLNK(mode):
            raise ModelPackageError(
                f"{label} contains the entry {info.filename!r}, which points outside the package "
                "or is a link; the archive is refused.",
                check="path",
            )
    return [i for i in infos if not i.is_dir()]


def _extract_members(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], target: Path
) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for info in members:
        destination = target.joinpath(*PurePosixPath(info.filename).parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, open(destination, "wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)


def _package_root(folder: Path, label: str) -> Path:
    if (folder / MANIFEST_NAME).is_file():
        return folder
    candidates = [p.parent for p in folder.glob("*/" + MANIFEST_NAME)]
    if len(candidates) == 1:
        return candidates[0]
    raise ModelPackageError(
        f"{label} does not contain exactly one model package (a folder with manifest.toml).",
        check="missing_file",
    )


def package_folder(path: Path) -> Path:
    """A package folder for ``path``: the folder itself, or a zip extracted to the cache."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return extract_zip_package(path)
    if path.is_file():
        content.check_file_content(path, path.name)  # refuses .pt/.pkl/TorchScript by name
    if not path.is_dir():
        raise ModelPackageError(
            f"{path} is neither a model package folder nor a zip of one.", check="missing_file"
        )
    return path


# --- verification -----------------------------------------------------------------------------
def verify_package(path: Path, deep: bool = True, action: str = "verify") -> VerifiedPackage:
    """Run every check on a package folder or zip and audit-log the result.

    ``deep=False`` skips the architecture, shape and NaN checks (used for quick listing).
    """
    source = Path(path)
    manifest: Manifest | None = None
    weights_sha = ""
    try:
        folder = package_folder(source)
        manifest = read_manifest(folder)
        weights_sha = _check_files(folder, manifest)
        verified = _check_weights(folder, manifest, weights_sha, deep)
    except ModelPackageError as exc:
        write_audit_line(action, source, manifest, weights_sha, exc)
        raise
    write_audit_line(action, source, manifest, weights_sha, None)
    return verified


def _check_files(folder: Path, manifest: Manifest) -> str:
    """Content checks on every file present, then presence and sha256 of every listed file."""
    listed = set(manifest.files)
    for required in (WEIGHTS_NAME, CARD_NAME):
        if required not in listed:
            raise ModelPackageError(
                f"The manifest does not list {required}; every package needs weights and a card.",
                check="manifest",
            )
    present = _scan_tree(folder)
    unlisted = sorted(set(present) - listed - {MANIFEST_NAME})
    if unlisted:
        raise ModelPackageError(
            f"The package contains files its manifest does not list ({', '.join(unlisted[:3])}); "
            "it may have been altered and is refused. Reinstall it from its original source.",
            check="unlisted_file",
        )
    digests = {}
    for name, expected in manifest.files.items():
        if name not in present:
            raise ModelPackageError(
                f"The package is missing {name}, which its manifest lists; reinstall it.",
                check="missing_file",
            )
        digests[name] = content.sha256_file(folder / name)
        if digests[name] != expected:
            raise ModelPackageError(
                f"{name} does not match the sha256 in the manifest: the file was changed or "
                "damaged after the package was made. The package is refused; reinstall it from "
                "its original source.",
                check="sha256",
            )
    return digests[WEIGHTS_NAME]


def _scan_tree(folder: Path) -> dict[str, Path]:
    present: dict[str, Path] = {}
    for item in sorted(folder.rglob("*")):
        relative = item.relative_to(folder).as_posix()
        if item.is_symlink():
            raise ModelPackageError(
                f"{relative} is a symbolic link; packages may only contain plain files.",
                check="path",
            )
        if item.is_dir():
            continue
        content.check_file_content(item, relative)
        present[relative] = item
    return present


def _check_weights(
    folder: Path, manifest: Manifest, weights_sha: str, deep: bool
) -> VerifiedPackage:
    weights = folder / WEIGHTS_NAME
    header = content.read_safetensors_header(weights)
    shapes = {name: list(entry["shape"]) for name, entry in header.items()}
    if deep:
        check_architecture_shapes(manifest, header)
        content.check_finite(weights, header)
    return VerifiedPackage(folder, manifest, weights_sha, shapes, deep)


def check_architecture_shapes(manifest: Manifest, header: dict[str, Any]) -> None:
    """The weights must fit the architecture's state_dict exactly (names, shapes, dtype kind)."""
    from stethoscan.inference.architectures import build_architecture

    model = build_architecture(manifest.architecture.id, manifest.architecture.params)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(header))
    extra = sorted(set(header) - set(expected))
    if missing or extra:
        raise ModelPackageError(
            f"The weights do not fit architecture {manifest.architecture.id!r} "
            f"(missing {missing[:3]}, unexpected {extra[:3]}); the package is refused.",
            check="shape",
        )
    for name, tensor in expected.items():
        entry = header[name]
        if list(tensor.shape) != entry["shape"]:
            raise ModelPackageError(
                f"Tensor {name!r} has shape {entry['shape']} but architecture "
                f"{manifest.architecture.id!r} with these parameters needs {list(tensor.shape)}; "
                "the package is refused.",
                check="shape",
            )
        if tensor.is_floating_point() != (entry["dtype"] in ("F64", "F32", "F16", "BF16")):
            raise ModelPackageError(
                f"Tensor {name!r} has dtype {entry['dtype']}, which does not fit the "
                "architecture; the package is refused.",
                check="dtype",
            )


def load_state_dict(verified: VerifiedPackage) -> dict[str, Any]:
    """Read the weights once, re-check their sha256 on the very bytes used, return tensors."""
    from safetensors.torch import load as load_safetensors

    data = (verified.path / WEIGHTS_NAME).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != verified.weights_sha256:
        error = ModelPackageError(
            "The weights changed on disk while the model was loading; the package is refused. "
            "Reinstall it.",
            check="sha256",
        )
        write_audit_line("load", verified.path, verified.manifest, digest, error)
        raise error
    return load_safetensors(data)
