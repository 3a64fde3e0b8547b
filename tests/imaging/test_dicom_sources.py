"""Opening files, folders, DICOMDIRs (working and broken) and zip archives."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from dicom_factory import write_series
from pydicom.fileset import FileSet

from stethoscan.core import paths as app_paths
from stethoscan.core.errors import DicomError
from stethoscan.imaging.dicom_index import index_paths
from stethoscan.imaging.dicom_sources import expand_paths, safe_member_path


def _instance_paths(index) -> set[str]:
    return {i.path for s in index.all_series() for i in s.instances}


def test_folder_is_scanned_recursively_and_files_are_listed_once(tmp_path: Path):
    first = write_series(tmp_path / "a" / "deep", n_slices=3)
    second = write_series(tmp_path / "b", n_slices=2)
    listing = expand_paths([tmp_path, first[0]])  # the file is inside the folder as well
    assert sorted(listing.files) == sorted(first + second)
    assert listing.skipped == [] and listing.notes == []


def test_several_files_and_a_missing_path(tmp_path: Path):
    files = write_series(tmp_path, n_slices=4)
    index = index_paths([files[0], files[2], tmp_path / "nowhere.dcm"])
    assert index.all_series()[0].number_of_slices == 2
    [missing] = index.skipped
    assert missing.path.endswith("nowhere.dcm") and "does not exist" in missing.reason


def test_nothing_readable_raises_a_clear_error(tmp_path: Path):
    with pytest.raises(DicomError, match="does not exist"):
        index_paths([tmp_path / "missing-folder"])


def _write_file_set(files: list[Path], folder: Path) -> Path:
    file_set = FileSet()
    for path in files:
        file_set.add(path)
    file_set.write(folder)
    return folder / "DICOMDIR"


def test_dicomdir_is_read_and_listed_as_the_disc_index(tmp_path: Path):
    source = write_series(tmp_path / "source", n_slices=5)
    dicomdir = _write_file_set(source, tmp_path / "cd")
    for opened in (tmp_path / "cd", dicomdir):
        index = index_paths([opened])
        [series] = index.all_series()
        assert series.number_of_slices == 5
        assert all(Path(p).is_relative_to(tmp_path / "cd") for p in _instance_paths(index))
        [entry] = index.skipped
        assert entry.path == str(dicomdir) and "DICOMDIR" in entry.reason
        assert "lists 5 files" in entry.reason
        assert index.notes == []


def test_broken_dicomdir_falls_back_to_scanning_with_a_note(tmp_path: Path):
    source = write_series(tmp_path / "source", n_slices=5)
    dicomdir = _write_file_set(source, tmp_path / "cd")
    dicomdir.write_bytes(dicomdir.read_bytes()[:300])  # a CD burnt with a cut-off index
    index = index_paths([tmp_path / "cd"])
    assert index.all_series()[0].number_of_slices == 5
    [note] = index.notes
    assert "broken" in note and "scanned" in note
    [entry] = [s for s in index.skipped if s.path == str(dicomdir)]
    assert "could not be used" in entry.reason


def test_dicomdir_listing_missing_files_is_noted_and_the_rest_loads(tmp_path: Path):
    source = write_series(tmp_path / "source", n_slices=5)
    _write_file_set(source, tmp_path / "cd")
    referenced = sorted(p for p in (tmp_path / "cd").rglob("*") if p.is_file()
                        and p.name != "DICOMDIR")
    referenced[0].unlink()
    index = index_paths([tmp_path / "cd"])
    assert index.all_series()[0].number_of_slices == 4
    assert any("1 of its 5 files" in note and "scanned" in note for note in index.notes)


def test_files_a_dicomdir_does_not_list_are_read_too(tmp_path: Path):
    source = write_series(tmp_path / "source", n_slices=3)
    _write_file_set(source, tmp_path / "cd")
    extra = write_series(tmp_path / "cd" / "EXTRA", n_slices=2)
    index = index_paths([tmp_path / "cd"])
    assert {str(p) for p in extra} <= _instance_paths(index)
    assert sum(s.number_of_slices for s in index.all_series()) == 5


def test_zip_archive_is_extracted_once_into_the_cache(tmp_path: Path):
    files = write_series(tmp_path / "src", n_slices=4)
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in files:
            zf.write(path, f"STUDY/{path.name}")
        zf.writestr("STUDY/readme.txt", "exported by a PACS")
    first = index_paths([archive])
    cache = app_paths.data_dir() / "archive-cache"
    paths = _instance_paths(first)
    assert len(paths) == 4 and all(Path(p).is_relative_to(cache) for p in paths)
    assert any(s.path.endswith("readme.txt") and "text file" in s.reason for s in first.skipped)
    stamp = {p: Path(p).stat().st_mtime_ns for p in paths}
    renamed = archive.rename(tmp_path / "renamed.zip")
    second = index_paths([renamed])
    assert _instance_paths(second) == paths  # same content -> same cache folder, not re-extracted
    assert {p: Path(p).stat().st_mtime_ns for p in paths} == stamp


def test_zip_members_cannot_escape_the_cache_folder(tmp_path: Path):
    [image] = write_series(tmp_path / "src", n_slices=1)
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(image, "ok/image.dcm")
        zf.writestr("../../escaped.dcm", image.read_bytes())
        zf.writestr("/absolute.dcm", image.read_bytes())
    index = index_paths([archive])
    assert len(_instance_paths(index)) == 1
    unsafe = [s for s in index.skipped if "outside the archive" in s.reason]
    assert len(unsafe) == 2
    cache = app_paths.data_dir() / "archive-cache"
    assert not (cache.parent / "escaped.dcm").exists() and not (cache / "escaped.dcm").exists()


def test_a_zip_inside_a_folder_is_opened(tmp_path: Path):
    files = write_series(tmp_path / "src", n_slices=2)
    (tmp_path / "inbox").mkdir()
    with zipfile.ZipFile(tmp_path / "inbox" / "series.zip", "w") as zf:
        for path in files:
            zf.write(path, path.name)
    index = index_paths([tmp_path / "inbox"])
    assert index.all_series()[0].number_of_slices == 2


def test_damaged_zip_is_listed_with_its_reason(tmp_path: Path):
    files = write_series(tmp_path / "src", n_slices=2)
    archive = tmp_path / "cut.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in files:
            zf.write(path, path.name)
    data = archive.read_bytes()
    archive.write_bytes(data[:200] + b"\0" * 300 + data[500:])  # damage the first member
    index = index_paths([archive, files[0]])
    reasons = " ".join(s.reason for s in index.skipped)
    assert "damaged" in reasons


@pytest.mark.parametrize("name", ["../x.dcm", "/etc/x.dcm", "a/../../x.dcm", "C:/x.dcm",
                                  "..\\x.dcm", ""])
def test_unsafe_member_names_are_refused(tmp_path: Path, name: str):
    assert safe_member_path(tmp_path, name) is None


def test_safe_member_names_stay_inside(tmp_path: Path):
    assert safe_member_path(tmp_path, "a/./b/c.dcm") == tmp_path / "a" / "b" / "c.dcm"


def test_a_large_tree_reports_progress_and_can_be_cancelled_while_walking(tmp_path: Path):
    for k in range(600):
        (tmp_path / f"sub{k % 7}").mkdir(exist_ok=True)
        (tmp_path / f"sub{k % 7}" / f"f{k}.txt").write_bytes(b"x")
    messages: list[str] = []

    def progress(fraction: float, message: str) -> None:
        messages.append(message)
        if message.startswith("Found 5"):
            raise RuntimeError("cancelled by the test")

    with pytest.raises(RuntimeError, match="cancelled"):
        expand_paths([tmp_path], progress)
    assert any(m.startswith("Found 5") and "files in" in m for m in messages)


def test_zipped_cd_with_dicomdir_and_zips_in_zips(tmp_path: Path):
    source = write_series(tmp_path / "source", n_slices=3)
    _write_file_set(source, tmp_path / "cd")
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        for path in (tmp_path / "cd").rglob("*"):
            if path.is_file():
                zf.write(path, path.relative_to(tmp_path / "cd"))
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "export/inner.zip")
    index = index_paths([outer])
    assert index.all_series()[0].number_of_slices == 3
    assert any("DICOMDIR" in s.reason and "lists 3 files" in s.reason for s in index.skipped)


def test_an_archive_nested_too_deep_is_not_opened(tmp_path: Path):
    [image] = write_series(tmp_path / "src", n_slices=1)
    current = image
    for level in range(5):
        archive = tmp_path / f"level{level}.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            zf.write(current, current.name)
        current = archive
    index = index_paths([current])
    assert index.all_series() == []
    assert any("nested more than" in s.reason for s in index.skipped)


def test_a_corrupt_zip_is_called_a_damaged_zip_not_a_non_dicom_file(tmp_path: Path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "junk.zip").write_bytes(b"this was never a zip archive" * 20)
    truncated = tmp_path / "truncated"  # a zip cut short: signature but no central directory
    with zipfile.ZipFile(tmp_path / "whole.zip", "w") as zf:
        zf.writestr("a.dcm", b"\0" * 4000)
    truncated.write_bytes((tmp_path / "whole.zip").read_bytes()[:1000])
    index = index_paths([tmp_path / "inbox", truncated])
    reasons = {Path(s.path).name: s.reason for s in index.skipped}
    assert set(reasons) == {"junk.zip", "truncated"}
    for reason in reasons.values():
        assert reason.startswith("A damaged or unsupported zip archive: it cannot be unpacked.")


def test_archive_members_are_shown_by_archive_name_and_member_path(tmp_path: Path):
    from stethoscan.imaging.dicom_sources import display_path

    [image] = write_series(tmp_path / "src", n_slices=1)
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("notes/b.txt", "not an image")
    archive = tmp_path / "junk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "not an image")
        zf.writestr("../escape.dcm", image.read_bytes())
        zf.write(inner, "nested/inner.zip")
    index = index_paths([archive])
    shown = sorted(display_path(s.path) for s in index.skipped)
    assert shown == [f"{archive} › ../escape.dcm", f"{archive} › a.txt",
                     f"{archive} › nested/inner.zip › notes/b.txt"]
    assert display_path(image) == str(image)  # a plain file stays as it is
