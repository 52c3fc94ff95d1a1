"""A missing or damaged weights file stops start-up with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.preflight import StartupError, check_model
from bot.settings import Settings


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
