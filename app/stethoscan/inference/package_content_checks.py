"""Checks on the bytes of a model package's files, without executing or unpickling anything.

Torch-free: pickle and TorchScript detection (by extension, magic bytes, zip member names and a
read-only opcode scan with :mod:`pickletools`), the safetensors header (size bound, dtype
allow-list, offsets) and NaN/Inf in the weights (read with numpy from a memory map).
"""

from __future__ import annotations

import hashlib
import json
import mmap
import pickletools
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.core.errors import ModelPackageError

MAX_HEADER_BYTES = 16 * 1024 * 1024
PICKLE_SUFFIXES = {".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".joblib", ".dill", ".sav"}
TORCHSCRIPT_SUFFIXES = {".pt2", ".ptl", ".torchscript"}
ALLOWED_SUFFIXES = {".safetensors", ".toml", ".md", ".txt", ".json", ".csv", ".png", ".svg", ".npy"}
# zip members that mark a torch.save / TorchScript / torch.export archive
_TORCH_ZIP_MARKERS = ("data.pkl", "constants.pkl", "version", "bytecode.pkl", ".data/", "code/")
# safetensors dtype -> (numpy dtype for the finiteness check or None, bytes per element)
SAFETENSORS_DTYPES: dict[str, tuple[str | None, int]] = {
    "F64": ("<f8", 8), "F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": (None, 2),
    "I64": (None, 8), "I32": (None, 4), "I16": (None, 2), "I8": (None, 1),
    "U8": (None, 1), "BOOL": (None, 1),
}  # fmt: skip
_PICKLE_PROBE_BYTES = 4 * 1024 * 1024


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _refuse(check: str, message: str) -> ModelPackageError:
    return ModelPackageError(message, check=check)


def torch_zip_markers(names: list[str]) -> list[str]:
    """Member names of a zip that show it is a torch.save/TorchScript/torch.export archive."""
    hits = []
    for name in names:
        base = name.rsplit("/", 1)[-1]
        parts = name.split("/")
        if name.endswith((".pt2", ".pkl")) or base in ("data.pkl", "constants.pkl", "bytecode.pkl"):
            hits.append(name)
        elif len(parts) > 1 and (parts[-2] in (".data", "code") or base == "version"):
            hits.append(name)
    return hits


def _is_pickle_stream(data: bytes) -> bool:
    """True when ``data`` parses as a complete pickle (read-only opcode scan, nothing executed)."""
    if not data or data[-1:] != b".":
        return False
    try:
        for _opcode, _arg, _pos in pickletools.genops(data):
            pass
    except (ValueError, KeyError, IndexError, UnicodeDecodeError, EOFError):
        return False
    return True


def looks_like_pickle(head: bytes, whole: bytes | None = None) -> bool:
    """Pickle magic: protocol 2-5 start with 0x80 and the protocol byte; 0/1 by an opcode scan."""
    if len(head) >= 2 and head[0] == 0x80 and 1 <= head[1] <= 5:
        return True
    return whole is not None and _is_pickle_stream(whole)


def check_file_content(path: Path, relative: str) -> None:
    """Refuse a file that is (or hides) pickle or TorchScript content, or an unexpected type."""
    suffix = Path(relative).suffix.lower()
    if suffix in TORCHSCRIPT_SUFFIXES:
        raise _refuse(
            "torchscript",
            f"{relative} is a TorchScript/torch.export file; packages may hold weights only as "
            "safetensors, so the package is refused. Export the weights with safetensors.",
        )
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        handle.seek(0)
        # protocol 0/1 pickles have no magic: scan the opcodes of small files (nothing runs)
        whole = handle.read() if size <= _PICKLE_PROBE_BYTES and suffix != ".safetensors" else None
    if head[:4] == b"PK\x03\x04":
        _refuse_zip(path, relative)
    # a safetensors header length may start with 0x80: weights files are checked by their header
    magic = looks_like_pickle(head, whole) if suffix != ".safetensors" else False
    if magic or suffix in PICKLE_SUFFIXES:
        raise _refuse(
            "pickle",
            f"{relative} holds pickle data (or has a pickle file extension), which could run "
            "code when loaded; the package is refused. Provide the weights as safetensors.",
        )
    if suffix not in ALLOWED_SUFFIXES:
        raise _refuse(
            "file_type",
            f"{relative} is not a file type a model package may contain "
            f"({', '.join(sorted(ALLOWED_SUFFIXES))}); the package is refused.",
        )
    if suffix == ".npy":
        _check_npy(path, relative)


def _refuse_zip(path: Path, relative: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        names = []
    if torch_zip_markers(names) or not names:
        raise _refuse(
            "torchscript",
            f"{relative} is a torch.save/TorchScript/torch.export archive (it contains "
            f"{', '.join(torch_zip_markers(names)[:3]) or 'zip data'}); nothing in a package may "
            "be executed or unpickled, so the package is refused.",
        )
    raise _refuse(
        "file_type",
        f"{relative} is an archive inside the package; nested archives are not allowed.",
    )


def _check_npy(path: Path, relative: str) -> None:
    try:
        with open(path, "rb") as handle:
            major, _minor = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if major == 1
                else np.lib.format.read_array_header_2_0
            )
            _shape, _fortran, dtype = read_header(handle)
    except (ValueError, OSError) as exc:
        raise _refuse("file_type", f"{relative} is not a valid .npy array ({exc}).") from exc
    if np.dtype(dtype).hasobject:
        raise _refuse(
            "pickle",
            f"{relative} is an object array stored with pickle; the package is refused.",
        )


def read_safetensors_header(path: Path, relative: str = "weights.safetensors") -> dict[str, Any]:
    """The tensor table of a safetensors file, after sanity checks (size, dtype, offsets)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise _refuse("header", f"{relative} is too short to be a safetensors file.")
        length = int.from_bytes(prefix, "little")
        if looks_like_pickle(prefix) and length > size - 8:
            raise _refuse(
                "pickle",
                f"{relative} holds pickle data, not safetensors; pickles can run code when "
                "loaded, so the package is refused. Provide the weights as safetensors.",
            )
        if length > MAX_HEADER_BYTES or length > size - 8:
            raise _refuse(
                "header",
                f"{relative} has an oversized header ({length} bytes; the limit is "
                f"{MAX_HEADER_BYTES} and the file has {size}); the weights are malformed and the "
                "package is refused.",
            )
        raw = handle.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(
            "header", f"{relative} has an unreadable safetensors header ({exc})."
        ) from exc
    if not isinstance(header, dict):
        raise _refuse("header", f"{relative} has a safetensors header that is not a table.")
    header.pop("__metadata__", None)
    _check_tensor_table(header, size - 8 - length, relative)
    return header


def _check_tensor_table(header: dict[str, Any], data_bytes: int, relative: str) -> None:
    spans = []
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise _refuse("header", f"{relative}: tensor {name!r} has a malformed header entry.")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in SAFETENSORS_DTYPES:
            raise _refuse(
                "dtype",
                f"{relative}: tensor {name!r} has dtype {dtype}, which is not allowed "
                f"({', '.join(SAFETENSORS_DTYPES)}); the package is refused.",
            )
        if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
            raise _refuse("header", f"{relative}: tensor {name!r} has an invalid shape {shape}.")
        start, end = offsets if isinstance(offsets, list) and len(offsets) == 2 else (-1, -1)
        expected = int(np.prod(shape, dtype=np.int64)) * SAFETENSORS_DTYPES[dtype][1]
        if not (0 <= start <= end <= data_bytes) or end - start != expected:
            raise _refuse("header", f"{relative}: tensor {name!r} has invalid data offsets.")
        spans.append((start, end))
    position = 0
    for start, end in sorted(spans):
        if start != position:
            raise _refuse("header", f"{relative}: tensors overlap or leave gaps in the data.")
        position = end
    if position != data_bytes:
        raise _refuse("header", f"{relative}: the file has bytes outside any tensor.")


def check_finite(path: Path, header: dict[str, Any], relative: str = "weights.safetensors") -> None:
    """Refuse weights that contain NaN or infinite values (floating dtypes only)."""
    with open(path, "rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        if path.stat().st_size == 8 + length:
            return
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            base = 8 + length
            for name, entry in header.items():
                start, end = (base + o for o in entry["data_offsets"])
                if not _span_is_finite(mapped, start, end, entry["dtype"]):
                    raise _refuse(
                        "nan",
                        f"{relative}: tensor {name!r} contains NaN or infinite values; the "
                        "weights are corrupt and the package is refused.",
                    )


def _span_is_finite(mapped: mmap.mmap, start: int, end: int, dtype: str) -> bool:
    if end == start:
        return True
    if dtype == "BF16":
        bits = np.frombuffer(mapped, dtype="<u2", count=(end - start) // 2, offset=start)
        return not bool(np.any((bits & 0x7F80) == 0x7F80))
    np_dtype = SAFETENSORS_DTYPES[dtype][0]
    if np_dtype is None:
        return True
    values = np.frombuffer(
        mapped, dtype=np_dtype, count=(end - start) // np.dtype(np_dtype).itemsize, offset=start
    )
    return bool(np.isfinite(values).all())
