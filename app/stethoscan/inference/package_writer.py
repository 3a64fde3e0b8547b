"""Write a model package: weights (safetensors), card, extra files and ``manifest.toml``.

Used by the training commands. The manifest's ``[files]`` table is filled with the sha256 of
every file written; the result is validated against the schema before anything is written.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

from stethoscan.inference import package_content_checks as content
from stethoscan.inference.package_manifest import (
    CARD_NAME,
    MANIFEST_NAME,
    WEIGHTS_NAME,
    parse_manifest,
)


def write_package(
    out_dir: Path,
    manifest: dict[str, Any],
    state_dict: dict[str, Any],
    card_markdown: str,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write a complete package folder and return it.

    Parameters
    ----------
    out_dir
        Package folder (created; files of the same names are overwritten).
    manifest
        The manifest as a dict, without ``files`` (filled here).
    state_dict
        ``model.state_dict()``: tensor name -> torch.Tensor.
    card_markdown
        The model card (Markdown).
    extra_files
        Further files (relative path -> bytes), e.g. ``"reliability.png"``; each is listed with
        its sha256. Only types a package may contain are accepted (no pickles).
    """
    import tomli_w
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    parse_manifest({**manifest, "files": {}})  # schema errors before anything is written
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {name: t.detach().to("cpu").contiguous() for name, t in state_dict.items()}
    metadata = {
        "name": str(manifest["model"]["name"]),
        "version": str(manifest["model"]["version"]),
    }
    save_file(tensors, str(out_dir / WEIGHTS_NAME), metadata=metadata)
    (out_dir / CARD_NAME).write_text(card_markdown, encoding="utf-8")
    names = [WEIGHTS_NAME, CARD_NAME]
    for relative, data in (extra_files or {}).items():
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        content.check_file_content(target, relative)
        names.append(relative)
    files = {name: content.sha256_file(out_dir / name) for name in names}
    full = {**manifest, "files": files}
    parse_manifest(full)
    (out_dir / MANIFEST_NAME).write_bytes(tomli_w.dumps(full).encode("utf-8"))
    return out_dir


def zip_package(package_dir: Path, zip_path: Path | None = None) -> Path:
    """Zip a package folder (files at the zip's root); returns the zip's path."""
    package_dir = Path(package_dir)
    zip_path = Path(zip_path) if zip_path else package_dir.with_suffix(".zip")
    tmp = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in sorted(package_dir.rglob("*")):
            if item.is_file():
                archive.write(item, item.relative_to(package_dir).as_posix())
    shutil.move(tmp, zip_path)
    return zip_path
