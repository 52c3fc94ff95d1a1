"""The learner model's candidate features: prepared once per deck, tallies always current."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from storage import Database
from storage import attempts as attempt_rows
from storage import learner_state as state_rows
from storage.database import run_sync
from tests.conftest import FakeClock
from tests.tutor.conftest import sample_deck_bytes
from tutor.candidates import Candidates, FeatureCache
from tutor.items import Grade, Item
from tutor.learner import ModelMemory
from tutor.model.online import CandidateBatch, CandidateFeatures, LearnerModel, LearnerState
from tutor.model.weights import TrainedWeights
from tutor.policy.model_adapter import LearnerModelPredictor
from tutor.service import TutorService


def _items(n: int = 16) -> list[Item]:
    from tutor.items import ItemKind

    kinds = [ItemKind.FLASHCARD, ItemKind.TRUE_FALSE]
    return [
        Item(
            kind=kinds[k % 2],
            prompt=f"q{k}",
            external_id=f"e{k}",
            answer="a" if k % 2 == 0 else None,
            correct_option=None if k % 2 == 0 else 1,
            tags=(f"t{k % 3}", "all") if k % 4 else (f"t{k % 3}",),
            id=100 + k,
            deck_id=1 + k // 8,
        )
        for k in range(n)
    ]


def _reference(items: list[Item], tallies: dict, tag_tallies: dict) -> CandidateBatch:
    return LearnerModel.prepare(list(_reference_candidates(items, tallies, tag_tallies)))


def _assert_same(a: CandidateBatch, b: CandidateBatch) -> None:
    assert np.array_equal(a.item_ids, b.item_ids)
    assert np.array_equal(a.tag_owner, b.tag_owner)
    assert np.array_equal(a.tag_keys, b.tag_keys)
    assert set(a.cols) == set(b.cols)
    for name in a.cols:
        assert np.array_equal(a.cols[name], b.cols[name]), name


def test_candidates_equal_the_prepared_features_and_decks_are_built_once() -> None:
    items = _items()
    cache = FeatureCache()
    tallies = {100: (5, 3), 107: (2, 2), 111: (1, 0)}
    tag_tallies = {"t0": (9, 4), "all": (20, 11)}
    got = Candidates(cache.runs(items), tallies, tag_tallies)
    _assert_same(got.batch, _reference(items, tallies, tag_tallies))
    assert list(got) == [CandidateFeatures(**vars_of(c)) for c in got]
    assert got[0].item_attempts == 5 and got[0].tag_attempts == 9
    built = cache.builds
    # New tallies on the same items: the fixed part is reused, the tallies are new.
    tallies = {100: (6, 4)}
    again = Candidates(cache.runs(items), tallies, tag_tallies)
    assert cache.builds == built
    _assert_same(again.batch, _reference(items, tallies, tag_tallies))
    # An item whose tags changed is prepared again.
    changed = [replace(items[0], tags=("t9",)), *items[1:]]
    fresh = Candidates(cache.runs(changed), tallies, tag_tallies)
    assert cache.builds == built + 1
    _assert_same(fresh.batch, _reference(changed, tallies, tag_tallies))


def vars_of(c: CandidateFeatures) -> dict:
    return {name: getattr(c, name) for name in CandidateFeatures.__slots__}


async def test_the_model_sees_each_answer_in_the_tallies_and_predicts_as_uncached(
    db: Database, clock: FakeClock, tiny_weights: TrainedWeights, tmp_path: Path
) -> None:
    weights = tmp_path / "w.pt"
    tiny_weights.save(weights)
    memory = ModelMemory(weights, calibrate=False)  # the raw predictor: this test is on its inputs
    memory.features = FeatureCache(min_cached=2)
    service = TutorService(db, clock=clock, seed=1, memory=memory)
    await service.import_file(sample_deck_bytes(), "sample.json")
    await service.register(5, 5, "Ada", "en")
    await service.enrol(5, "sample")
    model = memory.load()
    for step in range(3):
        question = await service.start_quiz(5, 1) if step == 0 else await service.next_question(5)
        if question is None:
            question = await service.start_quiz(5, 1)
        assert question is not None
        await service.answer(5, question.id, _any_answer(question))
        clock.advance(minutes=5)
        async with db.read() as conn:
            items = await service._quizzes.items.enrolled(conn, 5)
            predictor = await memory.predictor(conn, 5, items)
            ids = [i.id for i in items]
            names = {t for i in items for t in i.tags}
            tallies = await run_sync(conn, partial(attempt_rows.read_item_stats, item_ids=ids))
            tag_tallies = await run_sync(conn, partial(attempt_rows.read_tag_stats, tags=names))
            stored = await state_rows.get_state(conn, 5)
        assert isinstance(predictor, LearnerModelPredictor)
        assert predictor.batch is not None
        _assert_same(predictor.batch, _reference(items, tallies, tag_tallies))
        assert sum(t[0] for t in tallies.values()) == step + 1
        # the residual sums are counted: the first answer's p is 0.5, its variance 0.25
        assert sum(t[3] for t in tallies.values()) > 0.0
        if step == 0:
            assert [t[3] for t in tallies.values()] == [0.25]
        assert stored is not None
        state = LearnerState.from_bytes(stored.state)
        plain = LearnerModelPredictor(
            model, state, list(_reference_candidates(items, tallies, tag_tallies))
        )
        ids = np.array([i.id for i in items])
        at = np.full(ids.shape[0], clock().timestamp())
        assert np.array_equal(predictor.recall_at(ids, at), plain.recall_at(ids, at))
    assert memory.features.builds == 1  # the deck once; each answered item on its own, uncached


def _reference_candidates(items: list[Item], tallies: dict, tag_tallies: dict):
    """Candidates from tallies of 2 values (answers, correct) or 4 (then the residual sums)."""
    for item in items:
        n, c, r, v = (*tallies.get(item.id, (0, 0)), 0.0, 0.0)[:4]
        tags = [(*tag_tallies.get(t, (0, 0)), 0.0, 0.0)[:4] for t in item.tags]
        yield CandidateFeatures(
            item_id=item.id,
            tags=item.tags,
            n_options=item.n_options,
            kind=item.kind,
            item_attempts=n,
            item_correct=c,
            tag_attempts=sum(t[0] for t in tags),
            tag_correct=sum(t[1] for t in tags),
            item_resid=r,
            item_var=v,
            tag_resid=sum(t[2] for t in tags),
            tag_var=sum(t[3] for t in tags),
        )


def _any_answer(question):  # type: ignore[no-untyped-def]
    from tutor.views import Answer

    if question.choices:
        return Answer(choice=0)
    if question.item.accepted:
        return Answer(text=question.item.accepted[0])
    return Answer(grade=Grade.GOOD)
