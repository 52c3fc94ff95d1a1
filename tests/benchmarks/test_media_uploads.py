"""The media-uploads benchmark on a few students: both scenarios run and are saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import media_uploads


def test_both_scenarios_are_measured_and_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "media_uploads.json"
    media_uploads.main(
        ["--students", "3", "--sound-kb", "4", "--picture-kb", "4", "--json", str(out)]
    )
    saved = json.loads(out.read_text())
    assert saved["machine"]["cores"] and saved["options"]["students"] == 3
    baseline, reuse = saved["scenarios"]
    assert baseline["scenario"] == "upload every time"
    assert baseline["media_sends"] == reuse["media_sends"] == 9  # a picture, two sounds each
    assert (baseline["uploads"], reuse["uploads"]) == (9, 3)
    assert "| upload every time | 3 | 9 | 9 |" in capsys.readouterr().out
