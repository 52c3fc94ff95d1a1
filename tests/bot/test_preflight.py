"""A missing or damaged weights file stops start-up with a clear message; the background load."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from bot.preflight import BackgroundModel, StartupError, check_model
from bot.settings import Settings
from storage import Connection
from tutor.items import Item
from tutor.learner import MemoryModel, ModelMemory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _settings(model: Path | None) -> Settings:
    return Settings(_env_file=None, model_path=model)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot open weights"),
        (b"", "cannot read weights"),
        (b"\x80\x02garbage" * 50, "cannot read weights"),
    ],
)
def test_missing_or_corrupt_weights_stop_start_up(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    weights = tmp_path / "weights.pt"
    if content is not None:
        weights.write_bytes(content)
    with pytest.raises(StartupError) as caught:
        check_model(_settings(weights))
    message = str(caught.value)
    assert message.startswith(f"the learner model cannot be loaded from {weights}: ")
    assert expected in message
    assert message.endswith("check METATUTOR_MODEL")
    assert "\n" not in message


def test_weights_of_another_format_are_refused(tmp_path: Path) -> None:
    import torch

    weights = tmp_path / "other.pt"
    torch.save({"format": "something-else"}, weights)
    with pytest.raises(StartupError, match="not a metatutor weights file"):
        check_model(_settings(weights))


def test_a_good_model_is_returned() -> None:
    sentinel = object()
    assert check_model(_settings(None), loader=lambda path: sentinel) is sentinel


class _SlowMemory:
    """Stands in for ModelMemory (or, with ``name="rules"``, for the rules): ``load`` blocks
    (in its worker thread) until released; calls are recorded."""

    def __init__(self, fails: bool = False, name: str = "model") -> None:
        self.name = name
        self.release = threading.Event()
        self.loads = 0
        self.fails = fails
        self.calls: list[str] = []
        self.since: list[datetime | None] = []

    def load(self) -> object:
        self.loads += 1
        assert self.release.wait(10)
        if self.fails:
            raise ValueError("cannot read weights\nat line 1")
        return self

    async def observe(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("observe")
        self.since.append(kwargs.get("unlearned_since"))

    async def predictor(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("predictor")
        return f"{self.name} predictions"


def _background(memory: _SlowMemory, rules: _SlowMemory | None = None) -> BackgroundModel:
    return BackgroundModel(
        _settings(None),
        memory=cast(ModelMemory, memory),
        rules=cast(MemoryModel, rules or _SlowMemory(name="rules")),
    )


async def _observe(model: BackgroundModel, user_id: int = 1, at: datetime = T0) -> None:
    await model.observe(
        cast(Connection, None),
        user_id,
        cast(Item, None),
        correct=True,
        grade=None,
        latency_ms=None,
        at=at,
    )


async def test_the_rules_serve_while_the_model_loads_once_in_the_background() -> None:
    memory, rules = _SlowMemory(), _SlowMemory(name="rules")
    model = _background(memory, rules)
    loading = model.start()
    # While the load is blocked, calls are answered at once, by the rules: nothing waits,
    # and nothing is learned yet.
    assert await model.predictor(cast(Connection, None), 1, []) == cast(Any, "rules predictions")
    await _observe(model, at=T0)
    await _observe(model, at=T0 + timedelta(seconds=5))
    assert rules.calls == ["predictor"] and memory.calls == []
    assert not model.loaded and not loading.done()
    memory.release.set()
    await loading
    assert await model.predictor(cast(Connection, None), 1, []) == cast(Any, "model predictions")
    # The model learns from then on; for user 1 first what it missed since their first answer.
    await _observe(model, user_id=1, at=T0 + timedelta(seconds=9))
    await _observe(model, user_id=2, at=T0 + timedelta(seconds=9))
    assert memory.calls == ["predictor", "observe", "observe"] and rules.calls == ["predictor"]
    assert memory.since == [T0, None]
    assert model.loaded and model.failure is None and memory.loads == 1


async def test_a_model_call_before_start_starts_the_load() -> None:
    memory = _SlowMemory()
    memory.release.set()
    model = _background(memory)
    await model.predictor(cast(Connection, None), 1, [])
    await model.ready()
    model.start()
    assert memory.loads == 1


async def test_a_failed_background_load_fails_every_model_call_with_one_line() -> None:
    memory = _SlowMemory(fails=True)
    model = _background(memory)
    loading = model.start()
    memory.release.set()
    with pytest.raises(StartupError, match="cannot read weights at line 1; reinstall"):
        await loading
    with pytest.raises(StartupError, match="cannot read weights at line 1; reinstall"):
        await model.predictor(cast(Connection, None), 1, [])
    with pytest.raises(StartupError):  # every later call, without loading again
        await _observe(model)
    assert isinstance(model.failure, StartupError) and not model.loaded
    assert memory.calls == [] and memory.loads == 1
