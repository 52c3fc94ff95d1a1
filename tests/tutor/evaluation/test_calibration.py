"""Reliability, ECE and forgetting diagnostics of the benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tutor.evaluation.calibration import (
    calibration_markdown,
    diagnostic_rows,
    forgetting,
    item_gaps,
    overdue,
    reliability,
)
from tutor.evaluation.cli import main
from tutor.evaluation.logs import LearnerLog

from .test_cli import _csv

HOUR = 3_600.0
DAY = 86_400.0


def test_reliability_of_calibrated_predictions_is_close() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    y = (rng.random(p.shape) < p).astype(np.int64)
    bins, ece = reliability(y, p)
    assert len(bins) == 10
    assert ece < 0.01
    for b in bins:
        assert b["lo"] <= b["mean_pred"] < b["hi"]
        assert abs(b["observed"] - b["mean_pred"]) < 0.02
    assert sum(b["n"] for b in bins) == len(p)


def test_ece_measures_a_known_miscalibration() -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform(0.2, 0.7, 200_000)
    y = (rng.random(truth.shape) < truth).astype(np.int64)
    _, ece = reliability(y, truth + 0.2)  # every prediction 0.2 too high
    assert ece == pytest.approx(0.2, abs=0.01)


def test_reliability_bins_by_hand() -> None:
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.95, 1.0, 0.92])
    bins, ece = reliability(y, p)
    assert [(b["lo"], b["n"]) for b in bins] == [(0.0, 1), (0.1, 1), (0.9, 3)]
    top = bins[-1]
    assert top["mean_pred"] == pytest.approx((0.95 + 1.0 + 0.92) / 3)
    assert top["observed"] == pytest.approx(2 / 3)
    expected = (0.05 + 0.85 + 3 * abs(top["mean_pred"] - 2 / 3)) / 5
    assert ece == pytest.approx(expected)


def test_item_gaps_and_ratios() -> None:
    ts = np.array([0.0, 10.0, 2 * HOUR, 3 * HOUR, 3 * HOUR + 4 * DAY, 5 * HOUR + 10 * DAY])
    log = LearnerLog(
        user="u",
        items=np.array([1, 2, 1, 2, 1, 1]),
        skills=((),) * 6,
        correct=np.ones(6, dtype=np.int8),
        timestamps=ts,
    )
    gaps, ratios = item_gaps(log)
    assert gaps.tolist() == [
        -1.0,
        -1.0,
        2 * HOUR,
        3 * HOUR - 10.0,
        4 * DAY + HOUR,
        6 * DAY + 2 * HOUR,
    ]
    # no ratio after a learning step shorter than a day
    assert np.isnan(ratios[:5]).all()
    assert ratios[5] == pytest.approx((6 * DAY + 2 * HOUR) / (4 * DAY + HOUR))
    untimed = LearnerLog("v", log.items, log.skills, log.correct)
    g2, r2 = item_gaps(untimed)
    assert np.isnan(g2).all() and np.isnan(r2).all()


def test_forgetting_groups_follow_the_gaps() -> None:
    gaps = np.array([-1.0, 60.0, 2 * HOUR, 3 * DAY, 3 * DAY, 10 * DAY, 90 * DAY, np.nan])
    y = np.array([1, 1, 1, 1, 0, 0, 0, 1])
    p = np.array([0.5, 0.9, 0.8, 0.7, 0.7, 0.6, 0.4, 0.5])
    out = {g["gap"]: g for g in forgetting(y, p, gaps)}
    assert list(out) == ["first attempt", "< 1 h", "1 h - 1 d", "1 - 7 d", "7 - 30 d", "30 d +"]
    assert out["1 - 7 d"]["n"] == 2
    assert out["1 - 7 d"]["observed"] == pytest.approx(0.5)
    assert out["1 - 7 d"]["mean_pred"] == pytest.approx(0.7)
    assert sum(g["n"] for g in out.values()) == 7  # the unknown gap is left out
    od = overdue(y, p, np.array([np.nan, 0.3, 0.3, 1.5, 5.0, np.nan, np.nan, np.nan]))
    assert [(g["gap"], g["n"]) for g in od] == [("< 0.5", 2), ("1 - 2", 1), ("4 +", 1)]


def test_untimed_data_get_no_forgetting_rows() -> None:
    y, p = np.array([0, 1, 1]), np.array([0.2, 0.6, 0.9])
    rows = diagnostic_rows("d", "m", y, p, np.full(3, np.nan), np.full(3, np.nan))
    kinds = {r["kind"] for r in rows}
    assert kinds == {"reliability", "ece"}
    text = calibration_markdown(rows, ["m"])
    assert "**d** / m: ECE" in text
    assert "Forgetting" not in text


def test_cli_writes_reliability_and_forgetting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = _csv(tmp_path / "train.csv", range(0, 12), seed=1)
    test = _csv(tmp_path / "test.csv", range(100, 104), seed=2)
    out = tmp_path / "rel.json"
    code = main(
        [
            "--train", str(train), "--test", str(test), "--models", "global_mean,elo",
            "--reliability", str(out), "--no-progress", "--jobs", "1",
        ]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "## Calibration (ECE, 10 bins)" in text
    assert "**csv**: observed vs mean predicted recall by time since the last attempt" in text
    rows = json.loads(out.read_text())["rows"]
    for model in ("global_mean", "elo"):
        mine = [r for r in rows if r["model"] == model]
        assert sum(r["n"] for r in mine if r["kind"] == "reliability") == 100
        assert sum(r["n"] for r in mine if r["kind"] == "forgetting") == 100
    # a constant prediction falls in one bin whose mean is the prediction
    gm = [r for r in rows if r["model"] == "global_mean" and r["kind"] == "reliability"]
    assert len(gm) == 1
