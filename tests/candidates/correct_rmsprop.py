"""Correct candidates for the "rmsprop" spec: r <- decay*r + (1-decay)*g^2 (r0 = 0); p <- p - lr*g/(sqrt(r) + eps)."""

import jax
import jax.numpy as jnp
import optax

from tests.candidates._mixed_precision import float32_compute


def rmsprop_optax(learning_rate, decay=0.9, eps=1e-8):
    """optax.rmsprop(lr, decay, eps, eps_in_sqrt=False) (PyTorch placement, optax issue #532), float32 statistics."""
    return float32_compute(optax.rmsprop(learning_rate, decay=decay, eps=eps, eps_in_sqrt=False))


class _RMSprop(tuple):
    """(init, update) as a plain tuple subclass exposing .init / .update."""

    init = property(lambda self: self[0])
    update = property(lambda self: self[1])


def rmsprop_tuple(learning_rate, decay=0.9, eps=1e-8):
    """RMSprop with a plain-tuple state (count, r) and the EMA written as r + (1-decay)*(g^2 - r)."""

    def init(params):
        r = jax.tree.map(
            lambda p: jnp.zeros_like(p, dtype=jnp.promote_types(jnp.result_type(p), jnp.float32)),
            params,
        )
        return (jnp.zeros((), jnp.int32), r)

    def update(grads, state, params=None):
        del params
        count, r = state
        lr = learning_rate(count) if callable(learning_rate) else learning_rate

        def new_r(r, g):
            g = jnp.asarray(g).astype(r.dtype)
            return r + jnp.asarray(1 - decay, r.dtype) * (g * g - r)

        r = jax.tree.map(new_r, r, grads)

        def step(g, r):
            gw = jnp.asarray(g).astype(r.dtype)
            u = -jnp.asarray(lr, r.dtype) * gw / (jnp.sqrt(r) + jnp.asarray(eps, r.dtype))
            return u.astype(jnp.result_type(g))

        return jax.tree.map(step, grads, r), (count + 1, r)

    return _RMSprop((init, update))
