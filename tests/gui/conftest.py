"""Fixtures shared by the GUI tests."""

from __future__ import annotations

import pytest

from stethoscan.core.settings import Settings
from stethoscan.gui.app_context import AppContext
from stethoscan.gui.workers import Workers
from stethoscan.records.patient_store import PatientStore


@pytest.fixture
def make_context(tmp_path):
    """``make_context(*patient)``: an AppContext on a fresh database, with that patient open.

    ``patient`` are the arguments of ``PatientStore.upsert_patient`` (none: no patient open).
    The workers are shut down and the database closed after the test.
    """
    made: list[AppContext] = []

    def make(*patient: object) -> AppContext:
        store = PatientStore(tmp_path / f"patients-{len(made)}.sqlite3")
        ctx = AppContext(Settings(), store, Workers())
        if patient:
            ctx.set_patient(store.upsert_patient(*patient))
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.workers.shutdown()
        ctx.store.close()


@pytest.fixture
def review_view(context, qtbot):
    """The audio review view on the test file's ``context``, shown at a fixed size."""
    from stethoscan.gui.studio.audio_review import AudioReviewView

    widget = AudioReviewView(context)
    qtbot.addWidget(widget)
    widget.resize(1400, 850)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


@pytest.fixture(scope="module")
def uninstall_test_packages():
    """Remove, after the module, the model packages its tests installed in the shared home."""
    from ai_test_packages import remove_packages_installed_since, user_package_names

    before = user_package_names()
    yield
    remove_packages_installed_since(before)


@pytest.fixture
def app_theme(qapp):
    """The application's theme (as ``stethoscan gui`` sets it), undone afterwards for the other tests."""
    import pyqtgraph as pg

    from stethoscan.gui.application import apply_theme

    options = {k: pg.getConfigOption(k) for k in ("imageAxisOrder", "background", "foreground")}
    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    apply_theme(qapp)
    yield
    pg.setConfigOptions(**options)
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)
