"""Stored network weights: save, load and validate (torch imported lazily)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WEIGHTS_VERSION = 1
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "metatutor.pt"


class ModelLoadError(RuntimeError):
    """The weights file is missing, unreadable or not metatutor weights."""


@dataclass(slots=True)
class TrainedWeights:
    """A trained network's configuration, parameters and calibration."""

    config: dict[str, Any]
    state_dict: dict[str, Any]
    temperature: float = 1.0
    prior_rate: float = 0.65
    meta: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """Serialise with ``torch.save`` (tensors and plain types only)."""
        import torch

        buf = io.BytesIO()
        torch.save(
            {
                "format": "metatutor-weights",
                "version": WEIGHTS_VERSION,
                "config": self.config,
                "state_dict": self.state_dict,
                "temperature": self.temperature,
                "prior_rate": self.prior_rate,
                "meta": json.dumps(self.meta),
            },
            buf,
        )
        return buf.getvalue()

    def save(self, path: Path) -> None:
        """Write the weights to ``path`` and a readable summary to ``path.with_suffix('.json')``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.to_bytes())
        summary = {
            "config": self.config,
            "temperature": self.temperature,
            "prior_rate": self.prior_rate,
            "meta": self.meta,
        }
        path.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainedWeights:
        """Parse serialised weights; raise :class:`ModelLoadError` when they are not valid."""
        import torch

        try:
            obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types on corrupt input
            raise ModelLoadError(f"cannot read weights: {exc}") from exc
        if not isinstance(obj, dict) or obj.get("format") != "metatutor-weights":
            raise ModelLoadError("not a metatutor weights file")
        if obj.get("version") != WEIGHTS_VERSION:
            raise ModelLoadError(f"weights version {obj.get('version')} != {WEIGHTS_VERSION}")
        try:
            return cls(
                config=dict(obj["config"]),
                state_dict=dict(obj["state_dict"]),
                temperature=float(obj["temperature"]),
                prior_rate=float(obj["prior_rate"]),
                meta=json.loads(obj["meta"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"incomplete weights file: {exc}") from exc

    @classmethod
    def load(cls, path: Path) -> TrainedWeights:
        """Read weights from ``path``; raise :class:`ModelLoadError` when missing or corrupt."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelLoadError(f"cannot open weights {path}: {exc}") from exc
        return cls.from_bytes(data)
