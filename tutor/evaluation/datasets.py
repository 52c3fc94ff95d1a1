"""The benchmark's datasets: learner-level train/test splits of the logs in ``../shared/data``.

Splits (``fold`` 1-5):

- ``assist2009``, ``assist2015``: the shipped AKT files ``*_train{k}`` / ``*_test{k}``.
  ASSIST2009 merges the consecutive rows of one problem (multi-skill tagging) into one
  attempt with all its skills.
- ``assist2017``: test = ``test{k}``; train = the other test folds except ``test{k%5+1}``
  (the shipped ``valid{k}``), i.e. what AKT trained on. Consecutive repeats of a problem are
  real retries and stay; only a repeat that adds another skill is merged.
- ``ednet``, ``eedi``: the Option Tracing samples; test learners = every fifth learner id in
  text order, starting at index ``k-1``; train = the rest. Eedi rows whose answer is not
  observed (``test_mask == 0``) are dropped. ``n_options`` = 4.
- ``anki``: the 24 multi-user Anki logs, new-user split: test users = every fifth user in
  sorted order (``user_03``, ``user_08``, ... for fold 1), scored from their first review;
  train = the other users. Item = card, skill = home deck, correct = ease > 1.
- ``anki_time``: the same test users with srs-benchmark's per-user time split marked (see
  :func:`tutor.evaluation.anki_logs.time_split`); train = the other users.
- ``anki_single``: the single-user Anki log with the time split; train = all 24 users of
  ``anki_revlogs`` (different people). ``fold`` is ignored.
- ``anki_days``: the ``anki`` new-user split scoring only the reviews that srs-benchmark
  scores (on a later day than the card's previous review); every review is still predicted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tutor.evaluation.anki_logs import (
    IdMap,
    later_day_only,
    read_anki_single,
    read_anki_users,
    time_split,
)
from tutor.evaluation.kt_logs import every_fifth, read_assist, read_option_json
from tutor.evaluation.logs import Dataset, LearnerLog

DATASET_NAMES: tuple[str, ...] = (
    "assist2009",
    "assist2015",
    "assist2017",
    "ednet",
    "eedi",
    "anki",
    "anki_time",
    "anki_single",
    "anki_days",
)
N_FOLDS = 5


def _check_fold(fold: int) -> None:
    if not 1 <= fold <= N_FOLDS:
        raise ValueError(f"fold must be 1..{N_FOLDS}, got {fold}")


def _assist2009(data_dir: Path, fold: int) -> Dataset:
    folder = data_dir / "assist2009"

    def read(kind: str) -> list[LearnerLog]:
        return read_assist(
            folder / f"assist2009_pid_{kind}{fold}.csv",
            with_problems=True,
            collapse=True,
            keep_same_skill=False,
        )

    return Dataset("assist2009", read("train"), read("test"), timestamped=False)


def _assist2015(data_dir: Path, fold: int) -> Dataset:
    folder = data_dir / "assist2015"

    def read(kind: str) -> list[LearnerLog]:
        return read_assist(
            folder / f"assist2015_{kind}{fold}.csv", with_problems=False, collapse=False
        )

    return Dataset("assist2015", read("train"), read("test"), timestamped=False)


def _assist2017(data_dir: Path, fold: int) -> Dataset:
    folder = data_dir / "assist2017"

    def read(k: int) -> list[LearnerLog]:
        return read_assist(
            folder / f"assist2017_pid_test{k}.csv",
            with_problems=True,
            collapse=True,
            keep_same_skill=True,
        )

    valid = fold % N_FOLDS + 1
    train = [log for k in range(1, N_FOLDS + 1) if k not in (fold, valid) for log in read(k)]
    return Dataset("assist2017", train, read(fold), timestamped=False)


def _split_by_id(name: str, learners: list[LearnerLog], fold: int, timed: bool) -> Dataset:
    test_ids = every_fifth([log.user for log in learners], fold)
    train = [log for log in learners if log.user not in test_ids]
    test = [log for log in learners if log.user in test_ids]
    return Dataset(name, train, test, timestamped=timed)


def _ednet(data_dir: Path, fold: int) -> Dataset:
    learners = read_option_json(data_dir / "ednet_kt1_sample" / "cf_ednet.json")
    return _split_by_id("ednet", learners, fold, timed=False)


def _eedi(data_dir: Path, fold: int) -> Dataset:
    learners = read_option_json(data_dir / "eedi2020_sample" / "cf_coda.json")
    return _split_by_id("eedi", learners, fold, timed=False)


def _anki(data_dir: Path, fold: int) -> Dataset:
    learners = read_anki_users(data_dir / "anki_revlogs", IdMap())
    return _split_by_id("anki", learners, fold, timed=True)


def _anki_time(data_dir: Path, fold: int) -> Dataset:
    base = _anki(data_dir, fold)
    test = [time_split(log) for log in base.test]
    return Dataset("anki_time", base.train, test, timestamped=True)


def _anki_single(data_dir: Path, fold: int) -> Dataset:
    ids = IdMap()
    train = read_anki_users(data_dir / "anki_revlogs", ids)
    single = read_anki_single(data_dir / "anki_revlog_single_user", ids)
    return Dataset("anki_single", train, [time_split(single)], timestamped=True)


def _anki_days(data_dir: Path, fold: int) -> Dataset:
    base = _anki(data_dir, fold)
    test = [later_day_only(log) for log in base.test]
    return Dataset("anki_days", base.train, test, timestamped=True)


_LOADERS: dict[str, Callable[[Path, int], Dataset]] = {
    "assist2009": _assist2009,
    "assist2015": _assist2015,
    "assist2017": _assist2017,
    "ednet": _ednet,
    "eedi": _eedi,
    "anki": _anki,
    "anki_time": _anki_time,
    "anki_single": _anki_single,
    "anki_days": _anki_days,
}


#: Datasets whose training learners are the same (views of one split that differ only in which
#: test attempts are scored): a model fitted for one of them serves the others.
_SAME_TRAINING = {"anki_time": "anki", "anki_days": "anki"}


def training_group(name: str) -> str:
    """The dataset whose training learners ``name`` shares (``name`` itself if none)."""
    return _SAME_TRAINING.get(name, name)


def load_dataset(name: str, *, fold: int = 1, data_dir: Path) -> Dataset:
    """Load dataset ``name`` (one of :data:`DATASET_NAMES`) split for ``fold`` (1-5).

    Args:
        name: Dataset name.
        fold: Learner fold, 1-5 (ignored by ``anki_single``).
        data_dir: The shared data folder (holding ``assist2009/``, ``anki_revlogs/``, ...).

    Raises:
        ValueError: Unknown name or fold.
        FileNotFoundError: A data file is missing.
    """
    loader = _LOADERS.get(name)
    if loader is None:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASET_NAMES)}")
    _check_fold(fold)
    return loader(Path(data_dir), fold)
