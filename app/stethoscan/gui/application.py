"""Start the application: Qt, theme, logging, exception hook, settings, window, and a clean quit."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from stethoscan import __version__
from stethoscan.core import paths
from stethoscan.core.log_setup import configure_logging
from stethoscan.core.settings import load_settings, save_settings

_log = logging.getLogger(__name__)


def _offer_recording_recovery(window) -> None:
    from stethoscan.gui.studio.recovery_dialog import offer_recovery

    offer_recovery(window)


# Run once after the main window is shown, in order; each gets the MainWindow. A check must not
# raise for expected problems (it shows its own message); later parts may append to this list.
STARTUP_CHECKS: list[Callable[[object], None]] = [_offer_recording_recovery]


def run_gui(paths_to_open: list[str], demo: bool, screenshot_dir: str | None = None) -> int:
    """Open the main window (optionally with ``paths_to_open`` or the demo patient); return the exit code."""
    log_file = configure_logging()
    _log.info("Stethoscan %s starting (Python %s)", __version__, sys.version.split()[0])
    app = _create_qapplication()

    from stethoscan.gui.app_context import AppContext
    from stethoscan.gui.error_dialog import ExceptionHook
    from stethoscan.gui.main_window import MainWindow
    from stethoscan.gui.workers import Workers
    from stethoscan.records.patient_store import PatientStore

    hook = ExceptionHook(log_file)
    hook.install()
    settings = load_settings()
    store = PatientStore()
    workers = Workers()
    from stethoscan.imaging.archive_cache import prune_archive_cache

    # Extracted zip archives not opened for 30 days (or beyond 5 GB) are removed in the background.
    workers.submit("Tidying the archive cache", prune_archive_cache)
    context = AppContext(settings, store, workers)
    window = MainWindow(context)
    window.log_file = log_file

    closed = []

    def shut_down() -> None:
        if closed:  # aboutToQuit can come twice (a signal and a lost display)
            return
        closed.append(True)
        workers.shutdown(wait=True)
        window.save_window_state()
        save_settings(settings)
        store.close()
        hook.uninstall()
        _log.info("Stethoscan closed")

    app.aboutToQuit.connect(shut_down)
    _quit_on_terminal_signals(app)
    window.show()
    screenshot_dir = screenshot_dir or os.environ.get("STETHOSCAN_SCREENSHOT")
    if screenshot_dir:
        from stethoscan.gui.screenshot_script import ScreenshotScript

        window._screenshot_script = ScreenshotScript(window, Path(screenshot_dir))
    else:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: run_startup_checks(window))
    if demo:
        window.open_demo_patient()
    elif paths_to_open:
        window.open_paths(paths_to_open)
    return int(app.exec())


def _quit_on_terminal_signals(app) -> None:
    """Ctrl+C or a session manager's SIGTERM closes the app cleanly (settings and DB saved)."""
    import signal

    from PySide6.QtCore import QTimer

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.quit())
    # Python runs signal handlers only between bytecodes: wake it up now and then.
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(300)


def run_startup_checks(window) -> None:
    """Run every :data:`STARTUP_CHECKS` entry; one failing check does not stop the others."""
    for check in STARTUP_CHECKS:
        try:
            check(window)
        except Exception:  # a broken check must never keep the window from opening
            _log.exception("Start-up check %s failed", getattr(check, "__name__", check))


def _create_qapplication():
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    if existing is not None:
        return existing
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication(sys.argv[:1])
    app.setApplicationName(paths.APP_NAME)
    app.setOrganizationName(paths.APP_AUTHOR)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("stethoscan")
    apply_theme(app)
    return app


def apply_theme(app) -> None:
    """The calm dark clinical theme: Fusion, a dark palette, the style sheet and pyqtgraph defaults."""
    import pyqtgraph as pg
    from PySide6.QtGui import QColor, QIcon, QPalette

    pg.setConfigOptions(imageAxisOrder="row-major", background="#000000", foreground="#c8ced6")
    app.setStyle("Fusion")
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#1b1f24",
        QPalette.ColorRole.WindowText: "#d5dae0",
        QPalette.ColorRole.Base: "#14171b",
        QPalette.ColorRole.AlternateBase: "#1e2228",
        QPalette.ColorRole.ToolTipBase: "#2a3038",
        QPalette.ColorRole.ToolTipText: "#e6e9ed",
        QPalette.ColorRole.Text: "#d5dae0",
        QPalette.ColorRole.Button: "#252a31",
        QPalette.ColorRole.ButtonText: "#d5dae0",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#2f6f9f",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6cb4e4",
        QPalette.ColorRole.PlaceholderText: "#7d8590",
    }
    for role, value in colors.items():
        palette.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b737d"))
    app.setPalette(palette)
    style_file = paths.resources_dir() / "style" / "stethoscan.qss"
    if style_file.is_file():
        app.setStyleSheet(style_file.read_text(encoding="utf-8"))
    icon_file = paths.resources_dir() / "icons" / "stethoscan.svg"
    if icon_file.is_file():
        app.setWindowIcon(QIcon(str(icon_file)))
