"""Dataset names and folds are checked before any file is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.evaluation.datasets import DATASET_NAMES, load_dataset


def test_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown dataset 'assist2010'"):
        load_dataset("assist2010", data_dir=tmp_path)


def test_bad_fold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"fold must be 1\.\.5"):
        load_dataset("assist2009", fold=6, data_dir=tmp_path)


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_missing_files_are_named(name: str, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as err:
        load_dataset(name, data_dir=tmp_path)
    assert str(tmp_path) in str(err.value)
