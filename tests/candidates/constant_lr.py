"""From-scratch JAX optimizers as most people write them: a constant float learning rate.

``adam`` and ``rmsprop`` are faithful and take only a number as learning rate (``float(lr)`` at
build time, as in the origin write-ups); they must pass their spec with "schedules: not
supported". ``adam_schedule_one_based`` and ``adam_schedule_frozen`` accept a schedule and compute
the wrong numbers with it: they must fail the schedules check.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp


class AdamState(NamedTuple):
    step: jnp.ndarray
    m: dict
    v: dict


class Transform(NamedTuple):
    init: callable
    update: callable


def adam(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    lr = float(learning_rate)  # a constant: a schedule is not a number

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return AdamState(jnp.zeros([], jnp.int32), zeros, zeros)

    def update(grads, state, params=None):
        t = state.step + 1
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state.m, grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, state.v, grads)
        c1, c2 = 1 - b1**t, 1 - b2**t
        upd = jax.tree.map(lambda m, v, g: (-lr * (m / c1) / (jnp.sqrt(v / c2) + eps)).astype(g.dtype), m, v, grads)
        return upd, AdamState(t, m, v)

    return Transform(init, update)


def rmsprop(learning_rate, decay=0.9, eps=1e-8):
    lr = float(learning_rate)

    def init(params):
        return jax.tree.map(jnp.zeros_like, params)

    def update(grads, r, params=None):
        r = jax.tree.map(lambda r, g: decay * r + (1 - decay) * g * g, r, grads)
        return jax.tree.map(lambda g, r: (-lr * g / (jnp.sqrt(r) + eps)).astype(g.dtype), grads, r), r

    return Transform(init, update)


def _adam_with(lr_at):
    def factory(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        def init(params):
            zeros = jax.tree.map(jnp.zeros_like, params)
            return AdamState(jnp.zeros([], jnp.int32), zeros, zeros)

        def update(grads, state, params=None):
            t = state.step + 1
            lr = lr_at(learning_rate, t)
            m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state.m, grads)
            v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, state.v, grads)
            c1, c2 = 1 - b1**t, 1 - b2**t
            upd = jax.tree.map(lambda m, v, g: (-lr * (m / c1) / (jnp.sqrt(v / c2) + eps)).astype(g.dtype),
                               m, v, grads)
            return upd, AdamState(t, m, v)

        return Transform(init, update)

    return factory


# BUG (schedule): calls the schedule with the 1-based step number t (optax counts from 0).
adam_schedule_one_based = _adam_with(lambda lr, t: lr(t) if callable(lr) else lr)


def _frozen(lr):
    value = lr(0) if callable(lr) else lr  # BUG (schedule): the schedule evaluated once, at build time
    return lambda _lr, _t: value


def adam_schedule_frozen(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    return _adam_with(_frozen(learning_rate))(learning_rate, b1, b2, eps)
