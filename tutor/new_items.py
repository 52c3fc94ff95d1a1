"""More new items today, when a student asks for them instead of extra practice.

The policy introduces new items up to a daily quota (a share of the daily goal) and then
falls back to extra practice of items already seen. A student who wants more taps "more
new questions": :class:`NewItemRequests` remembers, per student and local day, how many
new items they may meet today (:data:`MORE_NEW_ITEMS` more than they already met).

The requests live in the service's memory, not in the database: a restart forgets them,
and the student is offered the button again at the next practice question. Nothing they
answered is lost, only the request.
"""

from __future__ import annotations

from datetime import date

MORE_NEW_ITEMS = 5
"""New items one tap asks for."""


class NewItemRequests:
    """Per student: the local day of their last request and the new items allowed that day."""

    def __init__(self) -> None:
        self._allowed: dict[int, tuple[date, int]] = {}

    def ask(self, user_id: int, day: date, met_today: int, count: int = MORE_NEW_ITEMS) -> int:
        """The student, who met ``met_today`` new items on ``day``, wants ``count`` more;
        returns how many new items that day now allows."""
        allowed = met_today + count
        self._allowed[user_id] = (day, allowed)
        return allowed

    def allowed(self, user_id: int, day: date) -> int | None:
        """New items the student asked to meet on ``day`` (None: no request that day)."""
        found = self._allowed.get(user_id)
        if found is None:
            return None
        if found[0] != day:
            del self._allowed[user_id]  # a request is for one day only
            return None
        return found[1]
