"""The learner model at start-up: a one-line error when it cannot load, and a background load.

``metatutor serve`` starts polling before torch and the weights are loaded (seconds on a
small machine): :class:`BackgroundModel` loads them in a worker thread meanwhile, and what
needs the model (choosing a question, the next review time, nudges, stats) is served by the
interval rules until then, so no request ever waits for the load (least of all inside a
database transaction, where it would hold every other student's request and any command-line
write). Weights that do not load stop the bot with the same one-line :class:`StartupError`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:  # the CLI imports this module: keep numpy and storage out of --help
    from storage import Connection, Database
    from storage.batch import Query
    from storage.records import MemoryRecord
    from tutor.items import Grade, Item
    from tutor.learner import MemoryModel, ModelMemory
    from tutor.model_reads import Observed, Prefetched
    from tutor.policy.predictor import RecallPredictor


log = logging.getLogger("bot.preflight")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""A catch-up from here learns every answer a student's stored state missed."""

MODEL_READY = "learner model ready"
"""Logged once the background load is done (tests and operators wait for it)."""
MODEL_SWAPPED = "learner model swapped"
"""Logged when promoted weights serve after a swap (:meth:`BackgroundModel.swap`)."""
MODEL_FOLLOWED = "learner model followed"
"""Logged when a process serves the weights another process rebuilt the states with."""
FOLLOW_EVERY = 1.0
"""Seconds between two looks at the database's weights version (one small read)."""
FOLLOW_RETRY = 60.0
"""Seconds before weights that did not load are tried again (the rules serve meanwhile)."""


class StartupError(Exception):
    """The bot cannot start; the message says what is wrong and what to do."""


def check_model(settings: Settings, loader: Callable[[Path | None], Any] | None = None) -> Any:
    """Load the learner model's weights once; raise :class:`StartupError` if they do not load.

    Returns the loaded model, so the caller can keep it instead of loading it again.
    """
    if loader is None:
        from tutor.model.online import LearnerModel

        loader = LearnerModel.load
    where = str(settings.model_path) if settings.model_path else "the bundled weights"
    try:
        return loader(settings.model_path)
    except Exception as error:  # ModelLoadError, or whatever a damaged file provokes
        hint = (
            "check METATUTOR_MODEL"
            if settings.model_path
            else "reinstall the package or set METATUTOR_MODEL"
        )
        # torch's messages run over many lines; the operator needs one.
        reason = " ".join(str(error).split())
        if len(reason) > 300:
            reason = reason[:297] + "..."
        raise StartupError(
            f"the learner model cannot be loaded from {where}: {reason}; {hint}"
        ) from error


class BackgroundModel:
    """A :class:`ModelMemory` that loads in a worker thread; the rules stand in meanwhile.

    It is the service's memory model. :meth:`start` begins the load (the first model call
    starts it too, so nothing ever loads it twice). Until it is done, :meth:`predictor`
    answers from the interval rules and :meth:`observe` leaves the learner state as it is,
    noting when the student's first such answer came: at their next answer after the load
    the model learns those answers from the log first. Neither waits. After a failed load
    both raise :class:`StartupError`.
    """

    def __init__(
        self,
        settings: Settings,
        memory: ModelMemory | None = None,
        rules: MemoryModel | None = None,
        *,
        follow: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        from tutor.rule_memory import RuleMemory

        if memory is None:
            from tutor.learner import ModelMemory

            memory = ModelMemory(settings.model_path)
        self.memory = memory
        self.rules: MemoryModel = rules or RuleMemory()
        self.name = self.memory.name
        self._settings = settings
        self._task: asyncio.Task[None] | None = None
        # Students who answered while the model loaded, and when they first did (a few).
        self._unlearned: dict[int, datetime] = {}
        self.follow = follow
        """Follow the weights version of the database (``serve``: other processes may
        rebuild the states with promoted weights)."""
        self.memory.follows = follow
        self._monotonic = monotonic
        self._looked = float("-inf")
        self._follow: asyncio.Task[None] | None = None
        self._follow_failed: float | None = None

    def start(self) -> asyncio.Task[None]:
        """Begin loading (once); the task ends when the model is ready or failed."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._load(), name="model-load")
        return self._task

    async def _load(self) -> None:
        began = time.perf_counter()
        await asyncio.to_thread(check_model, self._settings, lambda _path: self.memory.load())
        log.info("%s after %.1f s", MODEL_READY, time.perf_counter() - began)

    @property
    def loaded(self) -> bool:
        """True once the model loaded successfully."""
        task = self._task
        return task is not None and task.done() and not task.cancelled() and self.failure is None

    @property
    def failure(self) -> BaseException | None:
        """Why the finished load failed (None while loading, after success, or if cancelled)."""
        task = self._task
        if task is None or not task.done() or task.cancelled():
            return None
        return task.exception()

    async def ready(self) -> ModelMemory:
        """The loaded model memory (waits for the load; raises StartupError if it failed)."""
        await asyncio.shield(self.start())
        return self.memory

    def _current(self) -> MemoryModel:
        """The model once loaded, the rules while it loads (or loads the weights another
        process rebuilt the states with); raises the load's failure."""
        task = self.start()
        if not task.done() or (self._follow is not None and not self._follow.done()):
            return self.rules
        task.result()  # a StartupError after a failed load
        return self.memory

    @property
    def following(self) -> asyncio.Task[None] | None:
        """The load of the weights another process rebuilt the states with, if one began."""
        return self._follow

    async def _behind(self, conn: Connection, *, now: bool = False) -> bool:
        """True if the states in the database are of a newer weights version than this
        process runs: it then loads those weights (in the background; the rules stand in
        meanwhile). Looks at most every :data:`FOLLOW_EVERY` seconds unless ``now``."""
        from tutor.replay import serving_weights

        if not self.follow:
            return False
        if self._follow is not None and not self._follow.done():
            return True
        at = self._monotonic()
        if self._follow_failed is not None and at - self._follow_failed < FOLLOW_RETRY:
            return True  # the states are newer than these weights: the rules serve
        if not now and at - self._looked < FOLLOW_EVERY:
            return False
        self._looked = at
        found = await serving_weights(conn)
        if found is None or found.version <= self.memory.version:
            return False
        if found.weights_id == self.memory.load().weights_id:
            self.memory.version = found.version  # the states are of the weights it runs
            return False
        self._follow = asyncio.get_running_loop().create_task(
            self._load_followed(found.version, found.path), name="model-follow"
        )
        return True

    async def _load_followed(self, version: int, weights: Path | None) -> None:
        """Load ``weights`` and serve them as ``version`` (the rules serve meanwhile)."""
        from tutor.learner import ModelMemory

        began = time.perf_counter()
        new = ModelMemory(weights)
        new.follows = self.follow
        try:
            await asyncio.to_thread(new.load)
        except Exception as error:  # the rules serve; a look after FOLLOW_RETRY tries again
            log.error("cannot load the weights other processes serve (%s): %s", weights, error)
            self._follow_failed = self._monotonic()
            return
        self._follow_failed = None
        new.version = version
        self.memory = new
        log.info(
            "%s: %s as version %d in %.1f s",
            MODEL_FOLLOWED,
            weights.name if weights else "bundled weights",
            version,
            time.perf_counter() - began,
        )

    async def _model_or_behind(self, conn: Connection, user_id: int) -> bool:
        """True if the model may serve this request; False if this process is behind the
        database's weights (the student's answers are then learned once it caught up)."""
        if not await self._behind(conn):
            return True
        self._unlearned[user_id] = EPOCH
        return False

    async def observe(
        self,
        conn: Connection,
        user_id: int,
        item: Item,
        *,
        correct: bool,
        grade: Grade | None,
        latency_ms: int | None,
        at: datetime,
        read: Observed | None = None,
    ) -> None:
        """Learn from one answer by the model; while it loads, note what it will learn."""
        from tutor.learner import WeightsBehind

        memory = self._current()
        if memory is self.rules:
            if self._follow is not None and not self._follow.done():
                self._unlearned[user_id] = EPOCH  # whatever the rebuild missed, too
            else:
                self._unlearned.setdefault(user_id, at)
            return
        if not await self._model_or_behind(conn, user_id):
            return
        # Kept after the catch-up: if this transaction rolls back, the next answer retries
        # it (the stored state's time tells what it has learned: nothing is learned twice).
        try:
            await self.memory.observe(
                conn,
                user_id,
                item,
                correct=correct,
                grade=grade,
                latency_ms=latency_ms,
                at=at,
                unlearned_since=self._unlearned.get(user_id),
                read=read,
            )
        except WeightsBehind:  # the states moved on within the last second: follow now
            await self._behind(conn, now=True)
            self._unlearned[user_id] = EPOCH

    async def swap(self, db: Database, weights: Path) -> int:
        """Serve ``weights`` from now on, without stopping: they load in a worker thread
        while the current weights serve, every learner state is rebuilt from the log (the
        replay, computed off the event loop, reading in short batches), and the model is
        switched inside the replay's final transaction, where the answers logged meanwhile
        are learned too. Returns the number of students rebuilt."""
        from tutor.learner import ModelMemory
        from tutor.replay import replay_all

        await self.ready()
        new = ModelMemory(weights)
        new.follows = self.follow
        await asyncio.to_thread(new.load)
        old = self.memory

        def switch(version: int) -> None:
            new.version = version
            self.memory = new

        began = time.perf_counter()
        try:
            count = await replay_all(db, weights, switch=switch, offload=True)
        except BaseException:
            self.memory = old  # the states were not written: the old weights go on
            raise
        log.info(
            "%s: %s, %d learner states rebuilt in %.1f s",
            MODEL_SWAPPED,
            weights.name,
            count,
            time.perf_counter() - began,
        )
        return count

    async def predictor(
        self,
        conn: Connection,
        user_id: int,
        items: Sequence[Item],
        memories: Sequence[MemoryRecord] | None = None,
        *,
        needed: Sequence[Item] | None = None,
        prefetched: Prefetched | None = None,
    ) -> RecallPredictor:
        """Predictions for ``items`` (or only the ``needed`` ones): the model's once it is
        loaded, the rules' meanwhile."""
        from tutor.learner import WeightsBehind

        memory = self._current()
        if memory is not self.rules and await self._model_or_behind(conn, user_id):
            try:
                return await memory.predictor(
                    conn, user_id, items, memories, needed=needed, prefetched=prefetched
                )
            except WeightsBehind:
                await self._behind(conn, now=True)
        return await self.rules.predictor(conn, user_id, items, memories, needed=needed)

    def observe_query(self, user_id: int, item: Item, at: datetime) -> Query[Observed | None]:
        """The model's reads for an answer once it serves (none while it loads, follows or
        failed to load)."""
        if self.loaded and (self._follow is None or self._follow.done()):
            return self.memory.observe_query(user_id, item, at, self._unlearned.get(user_id))
        return self.rules.observe_query(user_id, item, at)

    def choice_query(self, user_id: int) -> Query[Prefetched | None]:
        """The model's reads ahead for a choice once it serves; the rules' (none) while it
        loads or failed to (the failure is raised where the model is asked, as before)."""
        if self.loaded and (self._follow is None or self._follow.done()):
            return self.memory.choice_query(user_id)
        return self.rules.choice_query(user_id)

    async def predictor_after(
        self,
        conn: Connection,
        user_id: int,
        item: Item,
        memory: MemoryRecord,
        *,
        at: datetime,
        counted: bool,
    ) -> RecallPredictor:
        """Predictions for ``item`` right after an answer: the model's once it is loaded (if
        it learned that answer), the rules' meanwhile."""
        from tutor.learner import WeightsBehind

        current = self._current()
        if current is not self.rules and await self._model_or_behind(conn, user_id):
            try:
                return await current.predictor_after(
                    conn, user_id, item, memory, at=at, counted=counted
                )
            except WeightsBehind:  # its state was not written: learned once it follows
                await self._behind(conn, now=True)
                self._unlearned[user_id] = EPOCH
        return await self.rules.predictor_after(conn, user_id, item, memory, at=at, counted=counted)
