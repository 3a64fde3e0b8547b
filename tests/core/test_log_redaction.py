import logging

from stethoscan.core.log_setup import REDACTED, configure_logging, register_identifiers


def test_registered_identifiers_never_reach_the_log_file(tmp_path):
    log_file = configure_logging(log_file=tmp_path / "app.log")
    register_identifiers(["DOE^JANE", "PID-99812", None, "x"])
    logging.getLogger("stethoscan.test").warning("Opened study of %s (%s)", "Doe^Jane", "PID-99812")
    logging.getLogger("stethoscan.test").warning("patient Jane again")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "PID-99812" not in text
    assert "Jane" not in text and "JANE" not in text
    assert text.count(REDACTED) >= 3


def test_identifiers_in_a_traceback_never_reach_the_log_file(tmp_path, capsys):
    """The file handler formats the traceback first: it must already be redacted then."""
    log_file = configure_logging(log_file=tmp_path / "app.log")
    register_identifiers(["Roe^Richard", "PID-55120"])
    root = logging.getLogger()
    others = [h for h in root.handlers if not getattr(h, "_stethoscan", False)]  # pytest's capture
    for handler in others:  # would format the traceback before ours, hiding the bug
        root.removeHandler(handler)
    try:
        raise ValueError("cannot read /data/Roe^Richard/PID-55120/slice1.dcm")
    except ValueError:
        logging.getLogger("stethoscan.test").exception("A file could not be read")
    finally:
        for handler in others:
            root.addHandler(handler)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "Traceback" in text and "ValueError: cannot read /data/" in text
    assert "Richard" not in text and "PID-55120" not in text
    assert "Richard" not in capsys.readouterr().err
