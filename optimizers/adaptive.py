"""Per-coordinate adaptive methods: AdaGrad and RMSprop."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optimizers._base import (
    GradientTransformation,
    abs_sq as _abs_sq,
    ScalarOrSchedule,
    as_compute,
    increment,
    learning_rate_at,
    scale_and_cast,
    zeros_like_compute,
)


class AccumulatorState(NamedTuple):
    count: jax.Array
    accumulator: object  # r: sum (AdaGrad) or moving average (RMSprop) of g**2


def adagrad(
    learning_rate: ScalarOrSchedule,
    initial_accumulator_value: float = 0.1,
    eps: float = 1e-7,
) -> GradientTransformation:
    r"""AdaGrad with eps outside the square root (Duchi et al.; PyTorch's convention).

    .. math::
        r_t = r_{t-1} + g_t^2, \qquad p_{t+1} = p_t - \eta_t\, g_t / (\sqrt{r_t} + \epsilon)

    with :math:`r_0` = ``initial_accumulator_value``. Duchi, Hazan & Singer, "Adaptive
    subgradient methods for online learning and stochastic optimization" (JMLR 2011).
    ``optax.adagrad`` puts eps inside the square root instead; see docs/conventions.md.
    """

    def init_fn(params):
        return AccumulatorState(
            count=jnp.zeros([], jnp.int32),
            accumulator=zeros_like_compute(params, initial_accumulator_value),
        )

    def update_fn(grads, state, params=None):
        del params
        g = as_compute(grads)
        r = jax.tree.map(lambda r, gi: r + _abs_sq(gi), state.accumulator, g)
        direction = jax.tree.map(
            lambda gi, ri: gi / (jnp.sqrt(ri) + jnp.asarray(eps, ri.dtype)), g, r
        )
        lr = learning_rate_at(learning_rate, state.count)
        return scale_and_cast(direction, grads, lr), AccumulatorState(increment(state.count), r)

    return GradientTransformation(init_fn, update_fn)


def rmsprop(
    learning_rate: ScalarOrSchedule, decay: float = 0.9, eps: float = 1e-8
) -> GradientTransformation:
    r"""RMSprop with eps outside the square root (Hinton's lecture; PyTorch's convention).

    .. math::
        r_t = \rho\, r_{t-1} + (1-\rho)\, g_t^2, \qquad
        p_{t+1} = p_t - \eta_t\, g_t / (\sqrt{r_t} + \epsilon)

    with :math:`r_0 = 0`. Tieleman & Hinton, Lecture 6.5 of "Neural Networks for Machine
    Learning" (Coursera 2012). Equals ``optax.rmsprop(lr, decay, eps, eps_in_sqrt=False)``.
    """

    def init_fn(params):
        return AccumulatorState(count=jnp.zeros([], jnp.int32), accumulator=zeros_like_compute(params))

    def update_fn(grads, state, params=None):
        del params
        g = as_compute(grads)
        r = jax.tree.map(
            lambda r, gi: jnp.asarray(decay, r.dtype) * r + jnp.asarray(1 - decay, r.dtype) * _abs_sq(gi),
            state.accumulator,
            g,
        )
        direction = jax.tree.map(
            lambda gi, ri: gi / (jnp.sqrt(ri) + jnp.asarray(eps, ri.dtype)), g, r
        )
        lr = learning_rate_at(learning_rate, state.count)
        return scale_and_cast(direction, grads, lr), AccumulatorState(increment(state.count), r)

    return GradientTransformation(init_fn, update_fn)
