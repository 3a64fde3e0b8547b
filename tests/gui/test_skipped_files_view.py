"""The "Skipped files" dialog: a sentence true to the counts, archive members by their names."""

from __future__ import annotations

import zipfile

from stethoscan.gui.skipped_files_view import SkippedFilesView, summary_sentence
from stethoscan.imaging.dicom_index import index_paths


def test_the_summary_follows_the_counts():
    assert summary_sentence(0, 3) == "No files were skipped."
    assert summary_sentence(6, 0).startswith("Nothing could be opened: none of the 6 files")
    assert summary_sentence(1, 2).startswith("2 series opened; 1 file could not be loaded.")
    unknown = summary_sentence(6, None)
    assert unknown.startswith("6 files could not be loaded") and "normally" not in unknown


def test_nothing_opened_zip_members_and_a_corrupt_zip(qtbot, tmp_path):
    archive = tmp_path / "junk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "not an image")
        zf.writestr("docs/b.txt", "not an image either")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 and then nothing that unzips" * 10)
    index = index_paths([archive, broken])
    view = SkippedFilesView(index.skipped, None, opened_series=len(index.all_series()))
    qtbot.addWidget(view)
    assert view.summary.text().startswith("Nothing could be opened: none of the 3 files")
    rows = dict(view.rows())
    assert set(rows) == {f"{archive} › a.txt", f"{archive} › docs/b.txt", str(broken)}
    assert rows[str(broken)].startswith("A damaged or unsupported zip archive")
    assert "archive-cache" not in " ".join(rows)
