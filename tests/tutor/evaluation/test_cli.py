"""Smoke runs of the benchmark command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tutor.evaluation.cli import main

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


def _csv(path: Path, users: range, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    lines = ["user_id,item_id,correct,skills,timestamp,grade"]
    for u in users:
        ts = 1.7e9
        for _ in range(25):
            item = int(rng.integers(0, 15))
            ok = int(rng.random() < 0.4 + 0.03 * item)
            ts += float(rng.choice([30, 3600, 86400, 3 * 86400]))
            grade = 3 if ok else 1
            lines.append(f"u{u},q{item},{ok},s{item % 3};t{item % 2},{ts:.0f},{grade}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_on_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = _csv(tmp_path / "train.csv", range(0, 12), seed=1)
    test = _csv(tmp_path / "test.csv", range(100, 104), seed=2)
    out_json, out_png = tmp_path / "r.json", tmp_path / "r.png"
    code = main(
        [
            "--train", str(train), "--test", str(test),
            "--models", "global_mean,item_mean,elo,fsrs6_default,hlr",
            "--json", str(out_json), "--plot", str(out_png), "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "| csv | elo | 100 |" in text
    payload = json.loads(out_json.read_text())
    rows = payload["rows"]
    assert {r["model"] for r in rows} == {
        "global_mean", "item_mean", "elo", "fsrs6_default", "hlr"
    }  # fmt: skip
    overall = [r for r in rows if r["bucket"] == "all"]
    assert all(r["n"] == 100 for r in overall)
    assert {r["bucket"] for r in rows} == {
        "0",
        "1-2",
        "3-5",
        "6-10",
        "11-20",
        "21-50",
        "51+",
        "all",
    }
    assert sum(r["n"] for r in rows if r["model"] == "elo" and r["bucket"] != "all") == 100
    assert payload["machine"]["python"] and payload["machine"]["cores"]
    assert out_png.stat().st_size > 1000


def test_cli_rejects_bad_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id,correct\nx,1,2\n", encoding="utf-8")
    code = main(["--train", str(bad), "--test", str(bad), "--models", "global_mean"])
    assert code == 2
    assert "line 2, column 'correct'" in capsys.readouterr().err


def test_cli_needs_both_files(tmp_path: Path) -> None:
    assert main(["--train", str(tmp_path / "x.csv")]) == 2


@pytest.mark.skipif(not (DATA / "ednet_kt1_sample").exists(), reason="shared data absent")
def test_cli_on_shared_data(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--datasets", "ednet", "--quick", "--data-dir", str(DATA),
         "--models", "global_mean,item_mean,elo", "--no-progress"]
    )  # fmt: skip
    assert code == 0
    assert "| ednet | item_mean |" in capsys.readouterr().out
