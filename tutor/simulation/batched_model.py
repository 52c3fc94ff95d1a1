"""The shipped learner model (``tutor.model.online.LearnerModel``) for a population at once.

The service asks the model one student at a time (``LearnerModelPredictor``: ``predict`` per
distinct time, two ``update`` calls per item for exam forecasts). The benchmark needs the same
predictions for hundreds of simulated students and thousands of items every simulated day, so
this module keeps every student's model state in arrays and evaluates the same network, the
same weights and the same feature code (``tutor.model.features.build_features``) in one
forward pass per day, and one batched GRU step per answer position. A test checks that its
predictions equal the adapter's on the same answers.

Simulated items are self-graded flashcards without tags (the tag features stay at their
"no tags" values). Item answer counts and residual sums (the ability-adjusted difficulty's
inputs, see ``tutor.model.ability.ability_residuals``) are shared by all simulated students,
as the service counts every learner's answers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tutor.model.ability import ability
from tutor.model.features import EMA_RATE, N_FEATURES, SECONDS_PER_DAY, RawColumns, build_features
from tutor.model.whatif import fsrs_steps

F = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
B = npt.NDArray[np.bool_]
I = npt.NDArray[np.int64]  # noqa: E741

# The FSRS-6 memory-state input on arrays: the product's definition, used as it is.
fsrs_default_step = fsrs_steps


class BatchedLearnerModel:
    """Every simulated student's ``LearnerState`` as arrays, with batched predict and update.

    Item columns are ``(students, items)``; times are Unix seconds.
    """

    def __init__(self, model: Any, n_students: int, n_items: int) -> None:
        import torch

        # small matrices: one thread per process avoids contention (as the service does)
        torch.set_num_threads(1)
        self.model = model
        self.net = model.net
        self.extra: tuple[str, ...] = tuple(getattr(model, "extra", ()))
        self.torch = torch
        shape = (n_students, n_items)
        self.n_students, self.n_items = shape
        self.h = np.repeat(model.new_state().h[None, :], n_students, axis=0).astype(np.float32)
        self.step = np.zeros(n_students)
        self.u_c = np.zeros(n_students)
        self.u_w = np.zeros(n_students)
        self.u_ema = np.full(n_students, np.nan)
        self.c = np.zeros(shape)
        self.w = np.zeros(shape)
        self.last = np.full(shape, -1.0)
        self.istep = np.zeros(shape)
        self.time = np.full(shape, np.nan)
        self.prev = np.full(shape, np.nan)
        self.grade = np.zeros(shape)
        self.fs = np.full(shape, np.nan)
        self.fd = np.full(shape, np.nan)
        #: each student's own share of the items' residual sums
        self.own_r = np.zeros(shape)
        self.own_v = np.zeros(shape)
        #: answers to each item by all students (what the service's attempt tallies hold)
        self.item_n = np.zeros(n_items)
        self.item_c = np.zeros(n_items)
        self.item_r = np.zeros(n_items)
        self.item_v = np.zeros(n_items)

    @property
    def seen(self) -> B:
        """Items each student has answered at least once."""
        return self.last >= 0

    # -- features -------------------------------------------------------------------------

    def _raw(
        self,
        r: I,
        i: I,
        now: F,
        user: tuple[F, F, F, F] | None = None,
        own_today: tuple[F, F, F, F] | None = None,
    ) -> RawColumns:
        """Raw columns of (student ``r``, item ``i``) pairs asked at ``now`` (flat arrays).

        ``user`` overrides the students' (step, correct, wrong, running accuracy) and
        ``own_today`` adds answers (n, correct, summed residual, summed variance) not yet in
        the item tallies (within a day).
        """
        step, u_c, u_w, u_ema = (
            (self.step[r], self.u_c[r], self.u_w[r], self.u_ema[r]) if user is None else user
        )
        add_n, add_c, add_r, add_v = (0.0, 0.0, 0.0, 0.0) if own_today is None else own_today
        raw = RawColumns.empty(r.shape[0])
        c = raw.cols
        c["prior_rate"][:] = self.model.prior_rate
        c["self_graded"][:] = 1.0
        seen = self.last[r, i] >= 0
        ui_c, ui_w = self.c[r, i], self.w[r, i]
        c["ui_c"], c["ui_w"], c["ui_last"] = ui_c, ui_w, self.last[r, i]
        c["ui_gap"] = np.where(seen, step - self.istep[r, i], 0.0)
        c["ui_dt"] = np.where(seen, now - self.time[r, i], np.nan)
        c["ui_ivl"] = np.where(seen, self.time[r, i] - self.prev[r, i], np.nan)
        c["ui_grade"] = self.grade[r, i]
        c["ui_fsrs_s"], c["ui_fsrs_d"] = self.fs[r, i], self.fd[r, i]
        c["item_n"] = self.item_n[i] + add_n - (ui_c + ui_w)
        c["item_c"] = self.item_c[i] + add_c - ui_c
        c["item_r"] = self.item_r[i] + add_r - self.own_r[r, i]
        c["item_v"] = self.item_v[i] + add_v - self.own_v[r, i]
        c["u_c"], c["u_w"], c["u_ema"] = u_c, u_w, u_ema
        return raw

    def _probs(self, x: F32, dt: F32, h: F32) -> F:
        """The network's P(correct) for feature rows ``x`` with user states ``h`` (per row)."""
        torch, net = self.torch, self.net
        from tutor.model.network import GUESS_INDEX

        with torch.inference_mode():
            xt = net.mask_user(torch.from_numpy(x))
            out = net.mlp(net.fx(xt) + net.fh(torch.from_numpy(h)))
            z = net.combine(out, torch.from_numpy(dt)) / self.model.temperature
            p = net.prob(z, xt[:, GUESS_INDEX])
        out_p: F = p.numpy().astype(np.float64)
        return out_p

    def _probs_by_student(self, x: F32, dt: F32, r: I) -> F:
        torch, net = self.torch, self.net
        from tutor.model.network import GUESS_INDEX

        with torch.inference_mode():
            fh = net.fh(torch.from_numpy(self.h))[torch.from_numpy(r)]
            xt = net.mask_user(torch.from_numpy(x))
            out = net.mlp(net.fx(xt) + fh)
            z = net.combine(out, torch.from_numpy(dt)) / self.model.temperature
            p = net.prob(z, xt[:, GUESS_INDEX])
        out_p: F = p.numpy().astype(np.float64)
        return out_p

    # -- predictions ----------------------------------------------------------------------

    def predict_all(self, at: F | float) -> F:
        """P(correct) of every (student, item) if asked at ``at`` (scalar or per student)."""
        s, n = self.n_students, self.n_items
        r = np.repeat(np.arange(s), n)
        i = np.tile(np.arange(n), s)
        now = np.broadcast_to(np.asarray(at, dtype=np.float64), (s,))[r]
        x, dt = build_features(self._raw(r, i, now), self.extra)
        return self._probs_by_student(x, dt, r).reshape(s, n)

    def _gru(self, x: F32, dt: F32, y: F, g: F, h: F32) -> F32:
        torch, net = self.torch, self.net
        step = np.stack([y, np.where(g > 0, (g - 2.5) / 1.5, 0.0)], axis=1).astype(np.float32)
        with torch.inference_mode():
            xt = net.mask_user(torch.from_numpy(x))
            u = net.step_input(xt, torch.from_numpy(step), torch.from_numpy(dt))
            m = u.shape[0]
            _, h_new = net.gru(u.view(m, 1, -1), torch.from_numpy(h).view(1, m, -1))
        out: F32 = h_new.view(m, -1).numpy().astype(np.float32)
        return out

    def after_review(self, review_at: F | float, at: F) -> tuple[F, F]:
        """P(correct) at ``at`` (per student, ``(S,)`` or ``(S, N)``) if each item were
        answered right (grade 3) / wrong (grade 1) at ``review_at`` and nothing else happened:
        ``LearnerModelPredictor.recall_after_review`` for every (student, item)."""
        s, n = self.n_students, self.n_items
        r = np.repeat(np.arange(s), n)
        i = np.tile(np.arange(n), s)
        t0 = np.broadcast_to(np.asarray(review_at, dtype=np.float64), (s,))[r]
        t1 = np.broadcast_to(np.asarray(at, dtype=np.float64).reshape(s, -1), (s, n)).ravel()
        x, dt = build_features(self._raw(r, i, t0), self.extra)
        seen = self.last[r, i] >= 0
        p = ability(self.u_c[r], self.u_c[r] + self.u_w[r])
        elapsed = np.where(seen, (t0 - self.time[r, i]) / SECONDS_PER_DAY, 0.0)
        out = []
        for y, g in ((1.0, 3), (0.0, 1)):
            ys = np.full(r.shape[0], y)
            gs = np.full(r.shape[0], float(g))
            h_new = self._gru(x, dt, ys, gs, self.h[r])
            fs, fd = fsrs_default_step(
                np.where(seen, self.fs[r, i], np.nan), self.fd[r, i], elapsed, np.full_like(r, g)
            )
            raw = RawColumns.empty(r.shape[0])
            c = raw.cols
            c["prior_rate"][:] = self.model.prior_rate
            c["self_graded"][:] = 1.0
            c["ui_c"] = self.c[r, i] + y
            c["ui_w"] = self.w[r, i] + 1.0 - y
            c["ui_last"][:] = y
            c["ui_gap"][:] = 1.0
            c["ui_dt"] = t1 - t0
            c["ui_ivl"] = np.where(seen, t0 - self.time[r, i], np.nan)
            c["ui_grade"][:] = float(g)
            c["ui_fsrs_s"], c["ui_fsrs_d"] = fs, fd
            c["item_n"] = self.item_n[i] - (c["ui_c"] + c["ui_w"])
            c["item_c"] = self.item_c[i] - c["ui_c"]
            c["item_r"] = self.item_r[i] - (self.own_r[r, i] + y - p)
            c["item_v"] = self.item_v[i] - (self.own_v[r, i] + p * (1.0 - p))
            c["u_c"] = self.u_c[r] + y
            c["u_w"] = self.u_w[r] + 1.0 - y
            ema = self.u_ema[r]
            c["u_ema"] = np.where(np.isnan(ema), y, (1 - EMA_RATE) * ema + EMA_RATE * y)
            x2, dt2 = build_features(raw, self.extra)
            out.append(self._probs(x2, dt2, h_new).reshape(s, n))
        return out[0], out[1]

    # -- learning -------------------------------------------------------------------------

    def update(self, students: I, items: I, at: F, correct: B, grade: I) -> None:
        """One answer each for distinct ``students`` (the service's ``LearnerModel.update``)."""
        r, i = students, items
        y = correct.astype(np.float64)
        g = grade.astype(np.float64)
        p = ability(self.u_c[r], self.u_c[r] + self.u_w[r])
        resid, var = y - p, p * (1.0 - p)
        # the service's tallies already count the answer being learned from
        own = (np.ones_like(y), y, resid, var)
        x, dt = build_features(self._raw(r, i, at, own_today=own), self.extra)
        self.h[r] = self._gru(x, dt, y, g, self.h[r])
        self._write_items(r, i, at, correct, grade, self.step[r], (resid, var))
        ema = self.u_ema[r]
        self.u_ema[r] = np.where(np.isnan(ema), y, (1 - EMA_RATE) * ema + EMA_RATE * y)
        self.u_c[r] += y
        self.u_w[r] += 1.0 - y
        self.step[r] += 1.0
        np.add.at(self.item_n, i, 1.0)
        np.add.at(self.item_c, i, y)
        np.add.at(self.item_r, i, resid)
        np.add.at(self.item_v, i, var)

    def _write_items(
        self, r: I, i: I, at: F, correct: B, grade: I, step: F, sums: tuple[F, F]
    ) -> None:
        """The item rows after one answer each to distinct (student, item) pairs (``sums``:
        each answer's residual and variance)."""
        y = correct.astype(np.float64)
        g = grade.astype(np.float64)
        seen = self.last[r, i] >= 0
        elapsed = np.where(seen, (at - self.time[r, i]) / SECONDS_PER_DAY, 0.0)
        fs, fd = fsrs_default_step(
            np.where(seen & np.isfinite(self.time[r, i]), self.fs[r, i], np.nan),
            self.fd[r, i],
            elapsed,
            np.where(g > 0, grade, np.where(correct, 3, 1)).astype(np.int64),
        )
        self.fs[r, i], self.fd[r, i] = fs, fd
        self.c[r, i] += y
        self.w[r, i] += 1.0 - y
        self.last[r, i] = y
        self.istep[r, i] = step
        self.prev[r, i] = np.where(seen, self.time[r, i], np.nan)
        self.time[r, i] = at
        self.grade[r, i] = g
        self.own_r[r, i] += sums[0]
        self.own_v[r, i] += sums[1]

    def update_day(self, items: I, at: F, correct: B, grade: I) -> None:
        """A day of answers, ``(students, T)`` in time order, ``items`` -1 after a student's
        last one; an item may come twice (the relearning step), never more.

        The same result as :meth:`update` answer by answer (the GRU runs once over the
        day's sequences), except that the item tallies count other students' answers as of
        the start of the day, as a service that refreshes them daily would.
        """
        s_n, t_n = items.shape
        valid = items >= 0
        lens = valid.sum(axis=1)
        if not lens.any():
            return
        y = np.where(valid, correct, False).astype(np.float64)
        wr = (valid & ~correct).astype(np.float64)
        g = np.where(valid, grade, 0).astype(np.float64)
        step_b = self.step[:, None] + np.arange(t_n)[None, :]
        uc_b = self.u_c[:, None] + np.cumsum(y, axis=1) - y
        uw_b = self.u_w[:, None] + np.cumsum(wr, axis=1) - wr
        p_b = ability(uc_b, uc_b + uw_b)
        resid_b, var_b = y - p_b, p_b * (1.0 - p_b)
        ema_b = np.empty((s_n, t_n))
        ema = self.u_ema.copy()
        for t in range(t_n):
            ema_b[:, t] = ema
            nxt = np.where(np.isnan(ema), y[:, t], (1 - EMA_RATE) * ema + EMA_RATE * y[:, t])
            ema = np.where(valid[:, t], nxt, ema)
        rr, tt = np.nonzero(valid)
        ii = items[rr, tt]
        _, first_at = np.unique(rr * self.n_items + ii, return_index=True)
        first = np.zeros(rr.shape[0], dtype=bool)
        first[first_at] = True
        x = np.zeros((s_n, t_n, N_FEATURES + len(self.extra)), dtype=np.float32)
        # the sums of each (student, item)'s first answer of the day, for its repeat
        first_keys = rr[first] * self.n_items + ii[first]
        order = np.argsort(first_keys)
        first_sums = (resid_b[rr[first], tt[first]][order], var_b[rr[first], tt[first]][order])
        dt = np.full((s_n, t_n), -1.0, dtype=np.float32)
        for sel, again in ((first, False), (~first, True)):
            r, i = rr[sel], ii[sel]
            k = tt[sel]
            if r.shape[0] == 0:
                continue
            # the tallies count the answer being learned from, and the day's first one
            y_now, r_now, v_now = y[r, k], resid_b[r, k], var_b[r, k]
            if again:
                pos = np.searchsorted(first_keys[order], r * self.n_items + i)
                own = (
                    np.full(r.shape[0], 2.0),
                    self.last[r, i] + y_now,
                    first_sums[0][pos] + r_now,
                    first_sums[1][pos] + v_now,
                )
            else:
                own = (np.ones(r.shape[0]), y_now, r_now, v_now)
            user = (step_b[r, k], uc_b[r, k], uw_b[r, k], ema_b[r, k])
            x[r, k], dt[r, k] = build_features(self._raw(r, i, at[r, k], user, own), self.extra)
            self._write_items(
                r, i, at[r, k], correct[r, k], grade[r, k], step_b[r, k], (r_now, v_now)
            )
        torch, net = self.torch, self.net
        steps = np.stack([y, np.where(g > 0, (g - 2.5) / 1.5, 0.0)], axis=2).astype(np.float32)
        with torch.inference_mode():
            xt = net.mask_user(torch.from_numpy(x))
            u = net.step_input(xt, torch.from_numpy(steps), torch.from_numpy(dt))
            out, _ = net.gru(u, torch.from_numpy(self.h).view(1, s_n, -1))
            last = out[torch.arange(s_n), torch.from_numpy(np.maximum(lens - 1, 0))]
            h_new = last.numpy().astype(np.float32)
        self.h = np.where((lens > 0)[:, None], h_new, self.h)
        self.u_c += y.sum(axis=1)
        self.u_w += wr.sum(axis=1)
        self.u_ema = ema
        self.step += lens
        np.add.at(self.item_n, ii, 1.0)
        np.add.at(self.item_c, ii, y[rr, tt])
        np.add.at(self.item_r, ii, resid_b[rr, tt])
        np.add.at(self.item_v, ii, var_b[rr, tt])
