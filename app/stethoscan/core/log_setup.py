"""Application logging that never writes patient identifiers.

Code must not log identifiers in the first place; :class:`PatientIdentifierFilter` is the safety
net: every identifier the program sees (patient name, ID, birth date, accession number) is
registered with :func:`register_identifiers` and replaced by ``[redacted]`` in every record.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from collections.abc import Iterable
from pathlib import Path

from stethoscan.core import paths

REDACTED = "[redacted]"
_lock = threading.Lock()
_identifiers: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_identifiers(values: Iterable[object]) -> None:
    """Remember identifiers (names, IDs, dates) that must never reach a log."""
    global _pattern
    new = set()
    for value in values:
        text = str(value).strip() if value is not None else ""
        if len(text) >= 3:
            new.add(text)
            if "^" in text:  # DICOM person names: also redact the components
                new.update(p for p in text.split("^") if len(p) >= 3)
    with _lock:
        if new - _identifiers:
            _identifiers.update(new)
            ordered = sorted(_identifiers, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(x) for x in ordered), re.IGNORECASE)


def redact(text: str) -> str:
    """Replace every registered identifier in ``text``."""
    pattern = _pattern
    return pattern.sub(REDACTED, text) if pattern is not None else text


class PatientIdentifierFilter(logging.Filter):
    """Redacts registered identifiers from the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is not None:
            message = record.getMessage()
            record.msg = redact(message)
            record.args = None
            if record.exc_info and not record.exc_text:
                # Format the traceback here, before any handler's formatter caches it unredacted.
                record.exc_text = _TRACEBACKS.formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()


def configure_logging(level: int = logging.INFO, log_file: Path | None = None) -> Path:
    """Log to a rotating file in the user log dir (and stderr for warnings); return the file."""
    log_file = log_file or (paths.log_dir() / "stethoscan.log")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_stethoscan", False):
            root.removeHandler(handler)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    for handler in (file_handler, console):
        handler.setFormatter(fmt)
        handler.addFilter(PatientIdentifierFilter())
        handler._stethoscan = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    return log_file
