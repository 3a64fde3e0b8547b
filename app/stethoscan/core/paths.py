"""Where things live: user config and data dirs (platformdirs), bundled resources and models.

``STETHOSCAN_HOME`` overrides the per-user dirs (used by tests and portable installs): config,
data and logs then live under that folder.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "Stethoscan"
APP_AUTHOR = "Stethoscan"

# app/stethoscan/core/paths.py -> repository root is three levels above the package.
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_ROOT = _PACKAGE_DIR.parent.parent


def _home_override() -> Path | None:
    value = os.environ.get("STETHOSCAN_HOME")
    return Path(value) if value else None


def config_dir() -> Path:
    """Folder of the settings file."""
    home = _home_override()
    if home is not None:
        path = home / "config"
    else:
        import platformdirs

        path = Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Folder of patient data: the database, recordings, results, user-installed models."""
    home = _home_override()
    if home is not None:
        path = home / "data"
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    """Folder of the application log and the model audit log."""
    path = data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def recordings_dir() -> Path:
    """Folder of recorded and imported audio (one sub-folder per patient session)."""
    path = data_dir() / "recordings"
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_models_dir() -> Path:
    """Folder of model packages the user installed."""
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    """The SQLite file holding patients, sessions, takes, markers, visits and results."""
    return data_dir() / "stethoscan.sqlite3"


def resources_dir() -> Path:
    """Bundled resources (icons, style sheet, demo patient)."""
    return PROJECT_ROOT / "resources"


def bundled_models_dir() -> Path:
    """Bundled model packages, committed under ``models/``."""
    return PROJECT_ROOT / "models"


def shared_data_dir() -> Path | None:
    """The development data set beside the checkout (``../shared/data``), if present."""
    candidate = PROJECT_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None
