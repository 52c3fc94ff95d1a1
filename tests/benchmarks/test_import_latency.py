"""The import-latency benchmark on a small file: every scenario runs and is saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import import_latency


def test_every_scenario_is_measured_and_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "import_latency.json"
    argv = ["--rows", "600", "--baseline", "5", "--think-ms", "1", "--switch-sizes", "10,60"]
    import_latency.main([*argv, "--json", str(out)])
    saved = json.loads(out.read_text())
    assert saved["machine"]["cores"] and saved["options"]["rows"] == 600
    names = [s["scenario"] for s in saved["scenarios"]]
    assert names[0] == "no import (baseline)" and len(names) == 6
    assert saved["scenarios"][0]["presses"] == 5
    assert all(s["import_s"] > 0 for s in saved["scenarios"][1:])
    assert [s["changed_rows"] for s in saved["switch"]] == [10, 60]
    assert all(s["switch_ms"] > 0 for s in saved["switch"])
    assert "| no import (baseline) | 5 |" in capsys.readouterr().out
