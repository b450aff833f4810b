"""Gradient descent with and without momentum (plain, heavy-ball, Nesterov)."""

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


class SgdState(NamedTuple):
    count: jax.Array  # number of updates made so far (int32); drives schedules


class TraceState(NamedTuple):
    count: jax.Array
    trace: object  # the velocity v, one leaf per parameter, in compute dtype


def sgd(learning_rate: ScalarOrSchedule) -> GradientTransformation:
    r"""Gradient descent.

    .. math::  p_{t+1} = p_t - \eta_t\, g_t

    Robbins & Monro, "A stochastic approximation method" (1951).
    """

    def init_fn(params):
        del params
        return SgdState(count=jnp.zeros([], jnp.int32))

    def update_fn(grads, state, params=None):
        del params
        lr = learning_rate_at(learning_rate, state.count)
        updates = scale_and_cast(as_compute(grads), grads, lr)
        return updates, SgdState(count=increment(state.count))

    return GradientTransformation(init_fn, update_fn)


def _heavy_ball(learning_rate, momentum, nesterov):
    def init_fn(params):
        return TraceState(count=jnp.zeros([], jnp.int32), trace=zeros_like_compute(params))

    def update_fn(grads, state, params=None):
        del params
        g = as_compute(grads)
        mu = momentum
        trace = jax.tree.map(lambda v, gi: jnp.asarray(mu, v.dtype) * v + gi, state.trace, g)
        if nesterov:
            direction = jax.tree.map(lambda v, gi: gi + jnp.asarray(mu, v.dtype) * v, trace, g)
        else:
            direction = trace
        lr = learning_rate_at(learning_rate, state.count)
        updates = scale_and_cast(direction, grads, lr)
        return updates, TraceState(count=increment(state.count), trace=trace)

    return GradientTransformation(init_fn, update_fn)


def momentum(learning_rate: ScalarOrSchedule, momentum: float = 0.9) -> GradientTransformation:
    r"""Heavy-ball momentum, undampened, velocity starting at zero.

    .. math::
        v_t = \mu v_{t-1} + g_t, \qquad p_{t+1} = p_t - \eta_t v_t

    Polyak, "Some methods of speeding up the convergence of iteration methods" (1964).
    Same convention as ``optax.sgd(lr, momentum)`` and PyTorch with ``dampening=0``.
    """
    return _heavy_ball(learning_rate, momentum, nesterov=False)


def nesterov(learning_rate: ScalarOrSchedule, momentum: float = 0.9) -> GradientTransformation:
    r"""Nesterov accelerated gradient in Sutskever et al.'s form.

    .. math::
        v_t = \mu v_{t-1} + g_t, \qquad p_{t+1} = p_t - \eta_t (g_t + \mu v_t)

    Nesterov (1983); Sutskever, Martens, Dahl & Hinton, "On the importance of initialization
    and momentum in deep learning" (ICML 2013). Same as ``optax.sgd(lr, momentum,
    nesterov=True)``.
    """
    return _heavy_ball(learning_rate, momentum, nesterov=True)
