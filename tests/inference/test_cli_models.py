"""``stethoscan models list|info|verify|install|remove`` with and without --json."""

from __future__ import annotations

import json

from stethoscan.cli import main


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_install_list_info_verify_remove(demo_package, model_dirs, capsys):
    code, data = run_json(capsys, "models", "install", str(demo_package))
    assert code == 0 and data["result"] == "installed" and data["name"] == "demo-2d"
    code, data = run_json(capsys, "models", "list")
    assert code == 0 and [m["name"] for m in data["models"]] == ["demo-2d"]
    assert data["models"][0]["source"] == "user"
    code, data = run_json(capsys, "models", "info", "demo-2d")
    assert code == 0 and "A card." in data["card"]
    assert data["manifest"]["model"]["research_use_only"] is True
    code, data = run_json(capsys, "models", "verify", "demo-2d")
    assert code == 0 and data["result"] == "ok" and len(data["weights_sha256"]) == 64
    code, data = run_json(capsys, "models", "remove", "demo-2d")
    assert code == 0 and data["result"] == "removed"
    code, data = run_json(capsys, "models", "list")
    assert data["models"] == []


def test_info_text_carries_disclaimer_and_synthetic_note(demo_package, model_dirs, capsys):
    main(["models", "install", str(demo_package)])
    capsys.readouterr()
    assert main(["models", "info", "demo-2d"]) == 0
    out = capsys.readouterr().out
    assert "Not for diagnostic use" in out and "synthetic data" in out


def test_verify_refusal_names_the_check(demo_package, model_dirs, capsys):
    weights = demo_package / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    weights.write_bytes(bytes(data))
    code, result = run_json(capsys, "models", "verify", str(demo_package))
    assert code == 1 and result["result"] == "refused" and result["check"] == "sha256"
    assert main(["models", "verify", str(demo_package)]) == 1
    assert "sha256" in capsys.readouterr().err


def test_unknown_model_is_a_clear_error(model_dirs, capsys):
    assert main(["models", "info", "nope"]) == 1
    assert "No model package is called 'nope'" in capsys.readouterr().err
