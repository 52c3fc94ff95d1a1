"""The refit benchmark on one small deployment: both starts judged against the bundled
weights in the same run, the probe under each, and the results saved with the machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import deployment_refit


def test_one_small_deployment_is_refitted_probed_and_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "refit.json"
    argv = ["--speeds", "8", "--students", "10", "--items", "30", "--days", "6"]
    assert deployment_refit.main([*argv, "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["machine"]["cores"] and saved["args"]["students"] == 10
    (run,) = saved["runs"]
    assert run["speed"] == 8.0 and run["answers"] >= 500
    assert set(run["candidates"]) == {"fine-tuned", "from scratch"}
    assert run["chosen"] in run["candidates"]
    assert [p["weights"] for p in run["probe"]] == ["bundled", "fine-tuned", "from scratch"]
    assert all(p["reviews"] > 0 for p in run["probe"])
    printed = capsys.readouterr().out
    assert "| 8.00 |" in printed and "| bundled |" in printed
