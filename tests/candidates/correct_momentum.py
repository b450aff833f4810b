"""Correct candidates for the "momentum" spec: v <- mu*v + g (v0 = 0); p <- p - lr*v."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree


def _compute_dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


class _Transform(NamedTuple):
    init: object
    update: object


def momentum_dict(learning_rate, momentum=0.9):
    """Heavy-ball momentum with a dict state {"count", "velocity"} (optax.sgd(lr, momentum) semantics)."""

    def init(params):
        velocity = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_compute_dtype(p)), params)
        return {"count": jnp.zeros([], jnp.int32), "velocity": velocity}

    def update(grads, state, params=None):
        del params
        velocity = jax.tree.map(
            lambda v, g: jnp.asarray(momentum, v.dtype) * v + jnp.asarray(g).astype(v.dtype),
            state["velocity"],
            grads,
        )
        lr = _lr_at(learning_rate, state["count"])
        updates = jax.tree.map(
            lambda v, g: (-jnp.asarray(lr, v.dtype) * v).astype(jnp.result_type(g)), velocity, grads
        )
        return updates, {"count": state["count"] + 1, "velocity": velocity}

    return _Transform(init, update)


def momentum_lr_in_velocity(learning_rate, momentum=0.9):
    """Keras-style momentum with lr inside the velocity: v <- mu*v - lr*g; p <- p + v (same for constant lr)."""

    def init(params):
        velocity = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_compute_dtype(p)), params)
        return (jnp.zeros([], jnp.int32), velocity)

    def update(grads, state, params=None):
        del params
        count, velocity = state
        lr = _lr_at(learning_rate, count)
        velocity = jax.tree.map(
            lambda v, g: jnp.asarray(momentum, v.dtype) * v
            - jnp.asarray(lr, v.dtype) * jnp.asarray(g).astype(v.dtype),
            velocity,
            grads,
        )
        updates = jax.tree.map(lambda v, g: v.astype(jnp.result_type(g)), velocity, grads)
        return updates, (count + 1, velocity)

    return _Transform(init, update)


def momentum_flat(learning_rate, momentum=0.9):
    """Heavy-ball momentum on one flat velocity vector built with jax.flatten_util.ravel_pytree."""

    def init(params):
        flat, _ = ravel_pytree(params)
        return {"count": jnp.zeros([], jnp.int32), "v": jnp.zeros_like(flat, dtype=_compute_dtype(flat))}

    def update(grads, state, params=None):
        del params
        flat_g, unravel = ravel_pytree(grads)
        v = jnp.asarray(momentum, state["v"].dtype) * state["v"] + flat_g.astype(state["v"].dtype)
        lr = _lr_at(learning_rate, state["count"])
        flat_u = (-jnp.asarray(lr, v.dtype) * v).astype(flat_g.dtype)
        updates = jax.tree.map(lambda u, g: u.astype(jnp.result_type(g)), unravel(flat_u), grads)
        return updates, {"count": state["count"] + 1, "v": v}

    return _Transform(init, update)
