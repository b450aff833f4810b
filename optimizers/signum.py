"""Signum (sign of momentum) and, at beta = 0, signSGD, from scratch."""

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
    scale_and_cast,
    zeros_like_compute,
)


class SignumState(NamedTuple):
    count: jax.Array  # number of updates made so far (the schedule's argument)
    mu: object  # EMA of the gradients, in each leaf's compute dtype


def signum(learning_rate: ScalarOrSchedule, beta: float = 0.9) -> GradientTransformation:
    r"""Signum, Algorithm 3 of Bernstein et al., "signSGD: Compressed Optimisation for Non-Convex
    Problems" (ICML 2018); signSGD (Algorithm 1) at beta = 0.

    .. math::
        v_t = \beta v_{t-1} + (1-\beta) g_t, \quad p_{t+1} = p_t - \eta_t\, \mathrm{sign}(v_t)

    v is not debiased (the sign of v / (1 - beta^t) is the sign of v). sign(0) = 0.
    """

    def init_fn(params):
        return SignumState(count=jnp.zeros([], jnp.int32), mu=zeros_like_compute(params))

    def update_fn(grads, state, params=None):
        del params
        g = as_compute(grads)
        mu = jax.tree.map(lambda m, gi: jnp.asarray(beta, m.dtype) * m + jnp.asarray(1 - beta, m.dtype) * gi,
                          state.mu, g)
        lr = learning_rate_at(learning_rate, state.count)
        updates = scale_and_cast(jax.tree.map(jnp.sign, mu), grads, lr)
        return updates, SignumState(count=increment(state.count), mu=mu)

    return GradientTransformation(init_fn, update_fn)
