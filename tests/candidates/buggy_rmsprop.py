"""Buggy candidates for the "rmsprop" spec (r <- decay*r + (1-decay)*g^2, r0 = 0; p <- p - lr*g/(sqrt(r) + eps))."""

import functools
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np


def _dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _rmsprop(learning_rate, decay, eps, *, scale=None, lr_fn=None):
    """Correct skeleton: ``scale(g, r, eps)`` and ``lr_fn(learning_rate, count)`` can carry a bug."""
    scale = scale or (lambda g, r, e: g / (jnp.sqrt(r) + e))
    lr_fn = lr_fn or (lambda lr, c: lr(c) if callable(lr) else lr)

    def init(params):
        return {"count": jnp.zeros([], jnp.int32), "nu": jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)}

    def update(grads, state, params=None):
        del params
        g = jax.tree.map(lambda x, r: jnp.asarray(x).astype(r.dtype), grads, state["nu"])
        nu = jax.tree.map(
            lambda r, x: jnp.asarray(decay, r.dtype) * r + jnp.asarray(1 - decay, r.dtype) * x * x, state["nu"], g
        )
        lr = lr_fn(learning_rate, state["count"])
        updates = jax.tree.map(
            lambda x, r, orig: (-jnp.asarray(lr, r.dtype) * scale(x, r, jnp.asarray(eps, r.dtype))).astype(
                jnp.result_type(orig)
            ),
            g,
            nu,
            grads,
        )
        return updates, {"count": state["count"] + 1, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def eps_inside_sqrt(learning_rate, decay=0.9, eps=1e-8):
    """BUG (eps-placement): g/sqrt(r + eps), optax.rmsprop's default eps_in_sqrt=True (optax #532, pytorch #23796)."""
    return _rmsprop(learning_rate, decay, eps, scale=lambda g, r, e: g / jnp.sqrt(r + e))


def ignores_decay(learning_rate, decay=0.9, eps=1e-8):
    """BUG (ignored-hyperparameter): decay accepted but 0.9 hard-coded (invisible at the default)."""
    del decay
    return _rmsprop(learning_rate, 0.9, eps)


def float_lr(learning_rate, decay=0.9, eps=1e-8):
    """Not a bug of the rule: converts the learning rate with float() inside update, so it cannot be traced
    (jit/vmap/scan and traced hyperparameters are "not supported"); eagerly it is correct. Kept here, where it
    was listed as a tracing bug before the harness told capabilities from conformance."""

    def lr_fn(lr, count):
        return float(lr(count) if callable(lr) else lr)

    return _rmsprop(learning_rate, decay, eps, lr_fn=lr_fn)


def nan_eps_precedence(learning_rate, decay=0.9, eps=1e-8):
    """BUG (nan): operator-precedence slip g / sqrt(r) + eps, so an all-zero gradient gives 0/0 = NaN."""
    return _rmsprop(learning_rate, decay, eps, scale=lambda g, r, e: g / jnp.sqrt(r) + e)


def float64_state(learning_rate, decay=0.9, eps=1e-8):
    """BUG (dtype-drift): decay stored as np.float64, so with jax_enable_x64 a float32/bf16 state becomes float64 after step 1."""
    decay64 = np.float64(decay)

    def init(params):
        return {"count": jnp.zeros([], jnp.int32), "nu": jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)}

    def update(grads, state, params=None):
        del params
        g = jax.tree.map(lambda x, r: jnp.asarray(x).astype(r.dtype), grads, state["nu"])
        nu = jax.tree.map(lambda r, x: decay64 * r + (1 - decay64) * x * x, state["nu"], g)
        lr = learning_rate(state["count"]) if callable(learning_rate) else learning_rate
        updates = jax.tree.map(
            lambda x, r, orig: (-lr * x / (jnp.sqrt(r) + eps)).astype(jnp.result_type(orig)), g, nu, grads
        )
        return updates, {"count": state["count"] + 1, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def zero_size_skips_step(learning_rate, decay=0.9, eps=1e-8):
    """BUG (pytree): a skip-if-non-finite guard tests isfinite(mean(g)); a zero-size leaf's mean is NaN, so every step is skipped."""
    inner = _rmsprop(learning_rate, decay, eps)

    def update(grads, state, params=None):
        means = [jnp.isfinite(jnp.mean(g)) for g in jax.tree.leaves(grads)]
        finite = functools.reduce(jnp.logical_and, means, jnp.array(True))
        updates, new_state = inner.update(grads, state, params)
        updates = jax.tree.map(lambda u: jnp.where(finite, u, jnp.zeros_like(u)), updates)
        new_state = jax.tree.map(lambda new, old: jnp.where(finite, new, old), new_state, state)
        return updates, new_state

    return SimpleNamespace(init=inner.init, update=update)
