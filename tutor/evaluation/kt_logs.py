"""Readers for the knowledge-tracing logs (ASSISTments, EdNet, Eedi) in ``../shared/data``."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tutor.evaluation.logs import LearnerLog

_SINGLE: dict[int, tuple[int, ...]] = {}


def _single(skill: int) -> tuple[int, ...]:
    """Return a shared one-skill tuple (saves memory and time on ~1M rows)."""
    found = _SINGLE.get(skill)
    if found is None:
        found = _SINGLE[skill] = (skill,)
    return found


def _open_text(path: Path) -> Any:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _find(path: Path) -> Path:
    """Return ``path`` or its ``.gz`` sibling, whichever exists."""
    if path.exists():
        return path
    gz = path.with_name(path.name + ".gz")
    if gz.exists():
        return gz
    raise FileNotFoundError(f"missing data file: {path} (or {gz.name})")


def _blocks(path: Path, lines_per_block: int) -> Iterator[list[str]]:
    with _open_text(_find(path)) as handle:
        lines = [line.strip() for line in handle if line.strip()]
    if len(lines) % lines_per_block:
        raise ValueError(f"{path}: {len(lines)} lines is not a multiple of {lines_per_block}")
    for start in range(0, len(lines), lines_per_block):
        yield lines[start : start + lines_per_block]


def _ints(line: str) -> np.ndarray:
    return np.array(line.rstrip(",").split(","), dtype=np.int64)


def collapse_multiskill(
    items: np.ndarray, skills: np.ndarray, correct: np.ndarray, *, keep_same_skill: bool
) -> tuple[np.ndarray, tuple[tuple[int, ...], ...], np.ndarray]:
    """Merge consecutive rows of one problem into one attempt carrying all their skills.

    ASSISTments lists a problem tagged with k skills as k consecutive rows with the same
    problem (and correctness) and a different skill each. With ``keep_same_skill`` a row
    repeating the previous problem with a skill already in the current group is kept as a
    new (real) attempt; without it every consecutive repeat is merged (the label of the
    first row is kept). ASSIST2009 uses the latter (its few same-skill repeats are duplicate
    rows), ASSIST2017 the former (its repeats are real retries).
    """
    out_items: list[int] = []
    out_skills: list[tuple[int, ...]] = []
    out_correct: list[int] = []
    group: list[int] = []
    for item, skill, ok in zip(items.tolist(), skills.tolist(), correct.tolist(), strict=True):
        if out_items and item == out_items[-1] and not (keep_same_skill and skill in group):
            if skill not in group:
                group.append(skill)
            out_skills[-1] = tuple(group)
            continue
        group = [skill]
        out_items.append(item)
        out_skills.append(_single(skill))
        out_correct.append(ok)
    return (
        np.array(out_items, dtype=np.int64),
        tuple(out_skills),
        np.array(out_correct, dtype=np.int8),
    )


def read_assist(
    path: Path, *, with_problems: bool, collapse: bool, keep_same_skill: bool = True
) -> list[LearnerLog]:
    """Read an AKT-format ASSISTments file (3- or 4-line blocks per learner).

    Args:
        path: The fold file (``.csv`` or ``.csv.gz``).
        with_problems: True for 4-line blocks (problem, skill, correct); False for 3-line
            blocks (skill, correct), where the skill is also the item.
        collapse: Merge multi-skill repeated rows (see :func:`collapse_multiskill`).
        keep_same_skill: Passed to :func:`collapse_multiskill`.
    """
    learners: list[LearnerLog] = []
    for block in _blocks(path, 4 if with_problems else 3):
        user = block[0].split(",")[-1].strip()
        if with_problems:
            items, skills, correct = _ints(block[1]), _ints(block[2]), _ints(block[3])
        else:
            skills, correct = _ints(block[1]), _ints(block[2])
            items = skills
        if not len(items) == len(skills) == len(correct):
            raise ValueError(f"{path}: learner {user} has lines of different lengths")
        if collapse:
            it, sk, co = collapse_multiskill(
                items, skills, correct, keep_same_skill=keep_same_skill
            )
        else:
            it = items.astype(np.int64)
            sk = tuple(_single(s) for s in skills.tolist())
            co = correct.astype(np.int8)
        learners.append(LearnerLog(user=user, items=it, skills=sk, correct=co))
    return learners


def read_option_json(path: Path, *, n_options: int = 4) -> list[LearnerLog]:
    """Read an Option Tracing ``cf_*.json`` file (EdNet or Eedi sample).

    Objects of the same ``user_id`` are concatenated in file order; rows with
    ``test_mask == 0`` (answer not observed) are dropped.
    """
    with _open_text(_find(path)) as handle:
        records = json.load(handle)
    by_user: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_user.setdefault(str(rec["user_id"]), []).append(rec)
    learners: list[LearnerLog] = []
    for user, recs in by_user.items():
        items: list[int] = []
        skills: list[tuple[int, ...]] = []
        labels: list[int] = []
        for rec in recs:
            mask = rec.get("test_mask") or [1] * len(rec["q_ids"])
            for q, subj, lab, keep in zip(
                rec["q_ids"], rec["subject_ids"], rec["labels"], mask, strict=True
            ):
                if not keep:
                    continue
                items.append(int(q))
                skills.append(tuple(int(s) for s in subj))
                labels.append(int(lab))
        if not items:
            continue
        n = len(items)
        learners.append(
            LearnerLog(
                user=user,
                items=np.array(items, dtype=np.int64),
                skills=tuple(skills),
                correct=np.array(labels, dtype=np.int8),
                n_options=np.full(n, n_options, dtype=np.int8),
            )
        )
    return learners


def every_fifth(users: list[str], fold: int) -> set[str]:
    """Test users of ``fold`` (1-5): every fifth user id sorted as text, from index ``fold - 1``.

    Ids are compared as strings ("10" < "2"), which reproduces the learner sets behind the
    reference figures in DESIGN.md (EdNet fold 1: 872 attempts, Eedi: 3,530).
    """
    ordered = sorted(set(users))
    return set(ordered[fold - 1 :: 5])
