"""Lion (EvoLved Sign Momentum), from scratch."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optimizers._base import (
    GradientTransformation,
    ScalarOrSchedule,
    as_compute,
    increment,
    learning_rate_at,
    zeros_like_compute,
)


class LionState(NamedTuple):
    count: jax.Array  # number of updates made so far (the schedule's argument)
    mu: object  # momentum m, in each leaf's compute dtype


def lion(
    learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.99, weight_decay: float = 1e-3
) -> GradientTransformation:
    r"""Lion, Program 1 of Chen et al., "Symbolic Discovery of Optimization Algorithms" (NeurIPS 2023).

    .. math::
        c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        p_{t+1} = p_t - \eta_t \left(\mathrm{sign}(c_t) + \lambda p_t\right), \quad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

    The sign is taken of the interpolation with the *previous* momentum; the momentum is updated
    afterwards. sign(0) = 0. The weight decay is decoupled and multiplied by the learning rate, and
    needs ``params``. Arithmetic in float32 for narrow leaves (``_base.compute_dtype``).
    """

    def init_fn(params):
        return LionState(count=jnp.zeros([], jnp.int32), mu=zeros_like_compute(params))

    def update_fn(grads, state, params=None):
        if params is None:
            raise ValueError("lion needs params for its weight decay: call update(grads, state, params)")
        g = as_compute(grads)
        lr = learning_rate_at(learning_rate, state.count)

        def leaf(gi, m, p, orig):
            dt = m.dtype
            c = jnp.asarray(b1, dt) * m + jnp.asarray(1 - b1, dt) * gi
            step = jnp.sign(c) + jnp.asarray(weight_decay, dt) * jnp.asarray(p).astype(dt)
            return (-jnp.asarray(lr, dt) * step).astype(jnp.result_type(orig))

        updates = jax.tree.map(leaf, g, state.mu, params, grads)
        mu = jax.tree.map(lambda m, gi: jnp.asarray(b2, m.dtype) * m + jnp.asarray(1 - b2, m.dtype) * gi, state.mu, g)
        return updates, LionState(count=increment(state.count), mu=mu)

    return GradientTransformation(init_fn, update_fn)
