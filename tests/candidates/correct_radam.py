"""Correct candidates for the "radam" spec (Liu et al. Algorithm 2, eps on sqrt(v_hat), threshold 5).

Written as people write RAdam: the closed form rho_t = rho_inf - 2 t b2^t / (1 - b2^t) (the
harness allows for its rounding, see pytest_optim/specs/radam.py), a class, a flat vector, and
optax's own radam in a chain.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from tests.candidates._mixed_precision import float32_compute


def radam_optax_chain(learning_rate, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    """optax.chain(scale_by_radam, scale_by_learning_rate), float32 statistics for low-precision leaves."""
    return float32_compute(optax.chain(
        optax.scale_by_radam(b1=b1, b2=b2, eps=eps, threshold=threshold),
        optax.scale_by_learning_rate(learning_rate),
    ))


def _wide(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


class _Transform(NamedTuple):
    init: object
    update: object


class RAdam:
    """A class with methods, constant float learning rate, dict state and **kwargs like many ports."""

    def __init__(self, learning_rate, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0, **kwargs):
        self.lr = float(learning_rate)
        self.b1, self.b2, self.eps, self.threshold = b1, b2, eps, threshold
        self.rho_inf = 2.0 / (1.0 - b2) - 1.0

    def init(self, params):
        zeros = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_wide(p)), params)
        return {"step": jnp.zeros([], jnp.int32), "exp_avg": zeros, "exp_avg_sq": zeros}

    def _rect(self, t):
        beta2_t = self.b2**t
        rho_t = self.rho_inf - 2.0 * t * beta2_t / (1.0 - beta2_t)
        rect = jnp.sqrt(jnp.maximum((rho_t - 4) * (rho_t - 2) * self.rho_inf
                                    / ((self.rho_inf - 4) * (self.rho_inf - 2) * rho_t), 0.0))
        return rho_t >= self.threshold, rect

    def update(self, grads, state, params=None):
        step = state["step"] + 1
        exp_avg = jax.tree.map(lambda m, g: self.b1 * m + (1 - self.b1) * g.astype(m.dtype), state["exp_avg"], grads)
        exp_avg_sq = jax.tree.map(lambda v, g: self.b2 * v + (1 - self.b2) * jnp.square(g.astype(v.dtype)),
                                  state["exp_avg_sq"], grads)

        def leaf(m, v, g):
            t = step.astype(m.dtype)
            use_rect, rect = self._rect(t)
            bc1, bc2 = 1 - self.b1**t, 1 - self.b2**t
            m_hat = m / bc1
            adaptive = rect * m_hat / (jnp.sqrt(v / bc2) + self.eps)
            return (-self.lr * jnp.where(use_rect, adaptive, m_hat)).astype(jnp.result_type(g))

        updates = jax.tree.map(leaf, exp_avg, exp_avg_sq, grads)
        return updates, {"step": step, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}


def radam_flat(learning_rate, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    """The whole tree as one float vector (ravel_pytree), python-float hyperparameters, lax.cond for the branch."""

    def init(params):
        flat, _ = ravel_pytree(jax.tree.map(lambda p: jnp.asarray(p, _wide(p)), params))
        return (jnp.zeros([], jnp.int32), jnp.zeros_like(flat), jnp.zeros_like(flat))

    def update(grads, state, params=None):
        count, m, v = state
        wide = jax.tree.map(lambda g: jnp.asarray(g, _wide(g)), grads)
        g, unravel = ravel_pytree(wide)
        g = g.astype(m.dtype)
        count = count + 1
        t = count.astype(m.dtype)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)

        def rectified(_):
            r = jnp.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            return r * m_hat / (jnp.sqrt(v / (1 - b2**t)) + eps)

        direction = jax.lax.cond(rho_t >= threshold, rectified, lambda _: m_hat, None)
        lr = learning_rate(count - 1) if callable(learning_rate) else learning_rate
        flat_updates = unravel(-lr * direction)
        updates = jax.tree.map(lambda u, g0: u.astype(jnp.result_type(g0)), flat_updates, grads)
        return updates, (count, m, v)

    return _Transform(init, update)
