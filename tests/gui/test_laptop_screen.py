"""The main window fits a 1366 x 768 laptop screen, with the audio review and the model docks."""

from __future__ import annotations

from stethoscan.gui.main_window import MainWindow

LAPTOP_WIDTH_PX = 1366


def test_the_window_fits_a_laptop_screen_on_every_central_tab(app_theme, make_context, qtbot):
    window = MainWindow(make_context())
    qtbot.addWidget(window)
    window.resize(LAPTOP_WIDTH_PX, 768)
    window.show()
    qtbot.waitExposed(window)
    widths = {}
    for key, panel in window.central_panels.items():
        window.tabs.setCurrentWidget(panel)
        qtbot.wait(200)
        widths[key] = window.minimumSizeHint().width()
    for key in ("models", "results", "scores"):
        dock = window.docks[key]
        dock.show()
        dock.raise_()
        dock.widget().materialize()
        qtbot.wait(100)
        widths[f"{key} dock"] = window.minimumSizeHint().width()
    assert max(widths.values()) <= LAPTOP_WIDTH_PX, widths
    window.close()
