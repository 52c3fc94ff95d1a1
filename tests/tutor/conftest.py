"""Fixtures for the tutor's tests: a small deck with one item of every kind."""

from __future__ import annotations

import json

import pytest

from tutor.service import TutorService

SAMPLE_DECK = {
    "metatutor": 1,
    "deck": {"slug": "sample", "name": "Sample", "description": "one of each", "language": "en"},
    "items": [
        {
            "id": "mc",
            "type": "multiple_choice",
            "question": "Which city was the capital of the Inca empire?",
            "options": ["Cusco", "Quito", "Lima", "Bogotá"],
            "answer": "Cusco",
            "explanation": "Cusco lay at the heart of the Inca road network.",
            "tags": ["americas::inca"],
        },
        {
            "id": "tf",
            "type": "true_false",
            "question": "The Great Wall was built in one dynasty.",
            "answer": False,
            "explanation": "Walls were built and rebuilt over many dynasties.",
            "tags": ["asia::china"],
        },
        {
            "id": "typed",
            "type": "typed",
            "question": "In which year did the Battle of Hastings take place?",
            "answer": ["1066"],
            "tags": ["europe::england"],
        },
        {
            "id": "card",
            "type": "flashcard",
            "question": "Magna Carta",
            "answer": "Charter sealed by King John in 1215",
            "tags": ["europe::england"],
        },
        {
            "id": "cz",
            "type": "cloze",
            "question": "The {{c1::Meiji}} Restoration began in {{c2::1868}}.",
            "tags": ["asia::japan"],
        },
    ],
}


def sample_deck_bytes(**changes: object) -> bytes:
    """The sample deck as a JSON file, with top-level keys replaced by ``changes``."""
    deck = dict(SAMPLE_DECK)
    deck.update(changes)
    return json.dumps(deck).encode()


@pytest.fixture
async def studying(service: TutorService) -> TutorService:
    """The service with the sample deck imported and student 100 enrolled in it."""
    await service.import_file(sample_deck_bytes(), "sample.json")
    await service.register(100, 100, "Ada", "en")
    await service.enrol(100, "sample")
    return service


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each test on a database runs on each backend (see tests/backends.py)."""
    from tests.backends import on_each_backend

    on_each_backend(metafunc)
