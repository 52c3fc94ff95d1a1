"""The learner model's recurrent update as plain float32 arithmetic (no torch per call)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from tutor.model.network import LearnerNet

F32 = npt.NDArray[np.float32]


class StateStep:
    """The recurrent update of one answer (``LearnerNet.step_input`` + one GRU step) as plain
    float32 matrix-vector products: a few microseconds instead of torch's per-call overhead."""

    def __init__(self, net: LearnerNet) -> None:
        import torch
        from torch import nn

        if not isinstance(net.gru, nn.GRU) or net.gru.num_layers != 1 or net.gru.bias is False:
            raise ValueError("recurrent layer of an unknown shape")

        def arr(t: Any) -> F32:
            return np.ascontiguousarray(t.detach().numpy().astype(np.float32))

        self.w_in, self.b_in = arr(net.inp.weight), arr(net.inp.bias)
        self.w_ih, self.b_ih = arr(net.gru.weight_ih_l0), arr(net.gru.bias_ih_l0)
        self.w_hh, self.b_hh = arr(net.gru.weight_hh_l0), arr(net.gru.bias_hh_l0)
        self.size = int(net.gru.hidden_size)
        self.n_features = int(net.cfg.n_features)
        # transposed copies as tensors, for the batched step (:meth:`many`)
        self._w_in_t = torch.from_numpy(np.ascontiguousarray(self.w_in.T))
        self._b_in = torch.from_numpy(self.b_in)
        self._w_ih_t = torch.from_numpy(np.ascontiguousarray(self.w_ih.T))
        self._b_ih = torch.from_numpy(self.b_ih)

    def __call__(self, h: F32, x: Sequence[float], step: Sequence[float], dt: float) -> F32:
        """The state after an answer with features ``x``, step inputs ``step`` (outcome,
        scaled grade) and ``dt`` days since the item's previous answer (-1 = unknown)."""
        f = self.n_features
        u = np.empty(f + len(step) + 2, np.float32)
        u[:f] = x
        u[f : f + len(step)] = step
        known = 1.0 if dt >= 0 else 0.0
        u[-2] = np.log1p(np.float32(max(dt, 0.0))) * known
        u[-1] = known
        a = np.tanh(self.w_in @ u + self.b_in)
        gi = self.w_ih @ a + self.b_ih
        gh = self.w_hh @ h + self.b_hh
        s = self.size
        r = 1.0 / (1.0 + np.exp(-(gi[:s] + gh[:s])))
        z = 1.0 / (1.0 + np.exp(-(gi[s : 2 * s] + gh[s : 2 * s])))
        n = np.tanh(gi[2 * s :] + r * gh[2 * s :])
        out: F32 = ((1.0 - z) * n + z * h).astype(np.float32)
        return out

    def many(self, h: F32, x: F32, step: F32, dt: F32) -> F32:
        """:meth:`__call__` for ``m`` answers from the same state ``h``: rows of features
        ``x`` ``[m, F]``, step inputs ``step`` ``[m, 2]`` and days ``dt`` ``[m]``; ``[m, S]``."""
        m, f = x.shape
        known = (dt >= 0).astype(np.float32)
        u = np.empty((m, f + step.shape[1] + 2), np.float32)
        u[:, :f] = x
        u[:, f : f + step.shape[1]] = step
        u[:, -2] = np.log1p(np.maximum(dt, 0.0).astype(np.float32)) * known
        u[:, -1] = known
        import torch

        # the matrix products by torch (one thread; numpy's BLAS may spin up its own)
        with torch.inference_mode():
            a = torch.tanh(torch.addmm(self._b_in, torch.from_numpy(u), self._w_in_t))
            gi = torch.addmm(self._b_ih, a, self._w_ih_t).numpy()
        gh = self.w_hh @ h + self.b_hh
        s = self.size
        r = 1.0 / (1.0 + np.exp(-(gi[:, :s] + gh[:s])))
        z = 1.0 / (1.0 + np.exp(-(gi[:, s : 2 * s] + gh[s : 2 * s])))
        n = np.tanh(gi[:, 2 * s :] + r * gh[2 * s :])
        out: F32 = ((1.0 - z) * n + z * h).astype(np.float32)
        return out
