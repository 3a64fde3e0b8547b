import json

from stethoscan.core.settings import SETTINGS_VERSION, Settings, load_settings, save_settings


def test_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings()
    settings.audio.sample_rate_hz = 44100
    settings.add_recent("/a")
    settings.add_recent("/b")
    settings.add_recent("/a")
    save_settings(settings, path)
    loaded = load_settings(path)
    assert loaded.audio.sample_rate_hz == 44100
    assert loaded.recent_items == ["/a", "/b"]


def test_version_1_file_is_migrated(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "audio": {"rate": 44100}, "recent": ["/x"]}))
    loaded = load_settings(path)
    assert loaded.version == SETTINGS_VERSION
    assert loaded.audio.sample_rate_hz == 44100
    assert loaded.recent_items == ["/x"]


def test_corrupt_file_falls_back_to_defaults_and_is_kept_aside(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    loaded = load_settings(path)
    assert loaded == Settings()
    assert (tmp_path / "settings.json.bad").exists()


def test_out_of_range_value_is_rejected(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": SETTINGS_VERSION, "audio": {"sample_rate_hz": 5}}))
    assert load_settings(path).audio.sample_rate_hz == 48000
