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
