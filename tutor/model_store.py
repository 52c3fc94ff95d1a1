"""The deployment's own learner-model weights, kept next to its database.

``metatutor train --from-db`` promotes a better candidate by writing it to
``<database stem>-models/<weights id>.pt`` beside the database file (never into the package)
and naming it in ``active.json`` there, replaced atomically: every process that opens the
database (the bot, ``model replay``, ``health``) finds the same active weights. Without a
promotion (or with ``METATUTOR_MODEL`` set) nothing changes: the bundled weights, or the
configured file, serve.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from tutor.model.weights import TrainedWeights

ACTIVE = "active.json"


def models_dir(database: Path) -> Path:
    """The folder of the deployment's own weights, beside ``database``."""
    return database.parent / f"{database.stem}-models"


def active_weights(database: Path) -> Path | None:
    """The promoted weights of the deployment at ``database``, if any were promoted."""
    record = models_dir(database) / ACTIVE
    try:
        doc = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = doc.get("weights") if isinstance(doc, dict) else None
    if not isinstance(name, str) or "/" in name or not name.endswith(".pt"):
        return None
    return models_dir(database) / name


def weights_path(database: Path, configured: Path | None) -> Path | None:
    """The weights a process serves: ``configured`` (METATUTOR_MODEL) first, then the
    deployment's promoted ones, else ``None`` (the bundled weights)."""
    return configured or active_weights(database)


def promote(
    database: Path, weights: TrainedWeights, when: datetime, summary: dict[str, Any]
) -> Path:
    """Store ``weights`` beside ``database`` and make them the active ones; returns their
    path. The file is complete before ``active.json`` names it (both written, then renamed)."""
    data = weights.to_bytes()
    folder = models_dir(database)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{hashlib.blake2b(data, digest_size=8).hexdigest()}.pt"
    _write_atomic(target, data)
    record = {"weights": target.name, "promoted": when.isoformat()} | summary
    _write_atomic(folder / ACTIVE, (json.dumps(record, indent=2) + "\n").encode())
    return target


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


CARD = "model_card.md"


def card_section(when: datetime, summary: dict[str, Any], promoted: bool) -> str:
    """The model card's section for one ``train --from-db`` run."""
    cur, new = summary["current"], summary["candidate"]
    start = "fine-tuned from the serving weights" if summary["fine_tuned"] else "from scratch"
    verdict = (
        "promoted: it serves from the bot's next start"
        if promoted
        else "not promoted: the serving weights stay"
    )
    return "\n".join(
        [
            f"## Refit on this deployment's students, {when:%Y-%m-%d %H:%M} UTC",
            "",
            f"Data: {summary['train_students']:,} students ({summary['train_answers']:,}"
            f" answers) trained the candidate ({start}); {summary['held_out_students']:,}"
            f" held-out students ({summary['held_out_answers']:,} answers) judged it, each"
            " answer predicted from the student's earlier answers only.",
            "",
            "| weights | held-out log loss | held-out AUC |",
            "|---|---:|---:|",
            f"| serving | {cur['log_loss']:.4f} | {cur['auc']:.4f} |",
            f"| candidate | {new['log_loss']:.4f} | {new['auc']:.4f} |",
            "",
            f"Decision: {verdict}.",
            "",
        ]
    )


def add_card_section(database: Path, section: str) -> Path:
    """Append ``section`` to the deployment's model card beside its weights."""
    folder = models_dir(database)
    folder.mkdir(parents=True, exist_ok=True)
    card = folder / CARD
    before = card.read_text(encoding="utf-8") if card.exists() else _CARD_HEAD
    _write_atomic(card, (before + "\n" + section).encode())
    return card


_CARD_HEAD = """# Learner model: this deployment's refits

Written by `metatutor train --from-db`, one section per run, newest last. The bundled
weights' own card is docs/model_card.md in the package's source.
"""
