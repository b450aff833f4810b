"""Correct candidates for the "adamax" spec: u <- max(b2*u, |g| + eps); p <- p - lr*(m/(1-b1^t))/u."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def adamax_flat(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """AdaMax on single flat m/u vectors built with jax.flatten_util.ravel_pytree."""

    def init(params):
        flat, _ = ravel_pytree(params)
        dtype = jnp.promote_types(flat.dtype, jnp.float32)
        zeros = jnp.zeros_like(flat, dtype=dtype)
        return {"count": jnp.zeros([], jnp.int32), "m": zeros, "u": zeros}

    def update(grads, state, params=None):
        del params
        flat_g, unravel = ravel_pytree(grads)
        dt = state["m"].dtype
        g = flat_g.astype(dt)
        t = state["count"] + 1
        m = jnp.asarray(b1, dt) * state["m"] + jnp.asarray(1 - b1, dt) * g
        u = jnp.maximum(jnp.asarray(b2, dt) * state["u"], jnp.abs(g) + jnp.asarray(eps, dt))
        lr = jnp.asarray(_lr_at(learning_rate, state["count"]), dt)
        flat_update = -lr * (m / (1 - jnp.asarray(b1, dt) ** t.astype(dt))) / u
        updates = unravel(flat_update.astype(flat_g.dtype))
        updates = jax.tree.map(lambda x, g: x.astype(jnp.result_type(g)), updates, grads)
        return updates, {"count": t, "m": m, "u": u}

    return SimpleNamespace(init=init, update=update)


def adamax_where(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """AdaMax with the infinity norm written as jnp.where(b2*u > |g|+eps, b2*u, |g|+eps) and lax.pow bias correction."""

    def init(params):
        def zeros(p):
            return jnp.zeros_like(p, dtype=jnp.promote_types(jnp.result_type(p), jnp.float32))

        return (jnp.zeros([], jnp.int32), jax.tree.map(zeros, params), jax.tree.map(zeros, params))

    def update(grads, state, params=None):
        del params
        count, mu, nu = state
        t = count + 1
        lr = _lr_at(learning_rate, count)

        def first(m, g):
            g = jnp.asarray(g).astype(m.dtype)
            return m + jnp.asarray(1 - b1, m.dtype) * (g - m)

        def inf_norm(u, g):
            decayed = jnp.asarray(b2, u.dtype) * u
            floor = jnp.abs(jnp.asarray(g).astype(u.dtype)) + jnp.asarray(eps, u.dtype)
            return jnp.where(decayed > floor, decayed, floor)

        mu = jax.tree.map(first, mu, grads)
        nu = jax.tree.map(inf_norm, nu, grads)

        def step(m, u, g):
            bc = 1 - jax.lax.pow(jnp.asarray(b1, m.dtype), t.astype(m.dtype))
            return (-jnp.asarray(lr, m.dtype) * m / (bc * u)).astype(jnp.result_type(g))

        return jax.tree.map(step, mu, nu, grads), (t, mu, nu)

    return SimpleNamespace(init=init, update=update)
