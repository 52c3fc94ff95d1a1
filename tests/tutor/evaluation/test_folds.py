"""Mean and spread over folds: the aggregation, its table, and an all-folds CLI run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.tutor.evaluation.conftest import make_learner
from tutor.evaluation import cli, folds, parallel
from tutor.evaluation.folds import fold_markdown, split_name, summarize
from tutor.evaluation.logs import Dataset
from tutor.evaluation.runner import Row


def row(dataset: str, model: str, auc: float, logloss: float, bucket: str = "all") -> Row:
    return {"dataset": dataset, "model": model, "bucket": bucket, "n": 100,
            "auc": auc, "logloss": logloss}  # fmt: skip


def test_split_name() -> None:
    assert split_name("assist2009/3") == ("assist2009", 3)
    assert split_name("anki_time") == ("anki_time", 1)
    assert split_name("csv") == ("csv", 1)


def test_mean_and_sample_sd_per_dataset_and_model() -> None:
    aucs = [0.70, 0.72, 0.75]
    rows = [row(f"eedi/{k + 1}", "elo", a, 0.6 + k / 100) for k, a in enumerate(aucs)]
    rows += [row("eedi/1", "elo", 0.1, 9.0, bucket="0")]  # a bucket row: not an overall figure
    rows += [row("eedi/2", "dkt", 0.80, 0.55)]
    (elo, dkt) = summarize(rows)
    assert (elo.dataset, elo.model, elo.folds) == ("eedi", "elo", (1, 2, 3))
    assert elo.auc_mean == pytest.approx(np.mean(aucs))
    assert elo.auc_sd == pytest.approx(np.std(aucs, ddof=1))
    assert elo.logloss_mean == pytest.approx(0.61)
    assert dkt.folds == (2,) and math.isnan(dkt.auc_sd)
    table = fold_markdown([elo, dkt])
    assert "| elo | 0.723 ± 0.025 | 0.610 ± 0.010 | 1-3 |" in table
    assert "| dkt | **0.800** | **0.550** | 2 |" in table


def test_merged_runs_count_a_fold_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"rows": [row("ednet/1", "elo", 0.6, 0.7)]}))
    b.write_text(json.dumps({"rows": [row("ednet/1", "elo", 0.8, 0.5),
                                      row("ednet/2", "elo", 0.6, 0.7)]}))  # fmt: skip
    assert folds.main([str(a), str(b)]) == 0
    assert "| elo | **0.700 ± 0.141** | **0.600 ± 0.141** | 1-2 |" in capsys.readouterr().out
    assert folds.main([str(tmp_path / "missing.json")]) == 2


def tiny_folds() -> dict[tuple[str, int | None], Dataset]:
    """Two folds of a small untimed dataset: the learners of the test fold move."""
    learners = [make_learner(f"u{k}", 30 + k, seed=k, timed=False) for k in range(10)]
    out: dict[tuple[str, int | None], Dataset] = {}
    for fold in (1, 2):
        test = learners[(fold - 1) * 3 : fold * 3]
        train = [log for log in learners if log not in test]
        out[("eedi", fold)] = Dataset(f"eedi/{fold}", train, test, timestamped=False)
    return out


def test_cli_prints_and_saves_the_fold_means(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tiny_folds()
    monkeypatch.setattr(parallel, "load", lambda spec, key: data[key])
    out = tmp_path / "r.json"
    argv = ["--datasets", "eedi", "--folds", "1,2", "--models", "item_mean,elo",
            "--jobs", "1", "--no-progress", "--json", str(out)]  # fmt: skip
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    payload = json.loads(out.read_text())
    per_fold = [r for r in payload["rows"] if r["bucket"] == "all" and r["model"] == "elo"]
    assert [r["dataset"] for r in per_fold] == ["eedi/1", "eedi/2"]
    aucs = [r["auc"] for r in per_fold]
    (summary,) = [s for s in payload["fold_summary"] if s["model"] == "elo"]
    assert summary["folds"] == [1, 2]
    assert summary["auc_mean"] == pytest.approx(np.mean(aucs))
    assert summary["auc_sd"] == pytest.approx(np.std(aucs, ddof=1))
    assert "## Mean over folds" in text
    assert f"{np.mean(aucs):.3f} ± {np.std(aucs, ddof=1):.3f}" in text


def test_cli_rejects_bad_folds() -> None:
    with pytest.raises(SystemExit, match="--folds takes numbers"):
        cli.main(["--folds", "0,7", "--models", "elo"])
