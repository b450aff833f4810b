"""Correct candidates for the "lamb" spec (You et al. Algorithm 2: per-leaf trust ratio, decay inside the norm)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from tests.candidates._mixed_precision import float32_compute


def lamb_optax_chain(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    """optax.chain(scale_by_adam, add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate), float32 statistics."""
    return float32_compute(optax.chain(
        optax.scale_by_adam(b1=b1, b2=b2, eps=eps),
        optax.add_decayed_weights(weight_decay),
        optax.scale_by_trust_ratio(),
        optax.scale_by_learning_rate(learning_rate),
    ))


def _wide(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


class Lamb:
    """A class with methods, dict state, a constant float learning rate read once at build time."""

    def __init__(self, learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0, **kwargs):
        self.lr = float(learning_rate)
        self.b1, self.b2, self.eps, self.wd = b1, b2, eps, weight_decay

    def init(self, params):
        zeros = jax.tree.map(lambda p: jnp.zeros(jnp.shape(p), _wide(p)), params)
        return {"step": jnp.zeros([], jnp.int32), "m": zeros, "v": zeros}

    def _layer(self, g, m, v, p, t):
        dt = m.dtype
        g = jnp.asarray(g).astype(dt)
        w = jnp.asarray(p).astype(dt)
        m = self.b1 * m + (1.0 - self.b1) * g
        v = self.b2 * v + (1.0 - self.b2) * jnp.square(g)
        adam = (m / (1.0 - self.b1**t)) / (jnp.sqrt(v / (1.0 - self.b2**t)) + self.eps)
        step = adam + self.wd * w
        w_norm, s_norm = jnp.linalg.norm(w), jnp.linalg.norm(step)
        trust = jnp.where((w_norm > 0.0) & (s_norm > 0.0), w_norm / jnp.maximum(s_norm, jnp.finfo(dt).tiny), 1.0)
        return -self.lr * trust * step, m, v

    def update(self, grads, state, params=None):
        t = (state["step"] + 1).astype(jnp.float32)
        leaves, treedef = jax.tree.flatten(grads)
        ms, vs, ps = (treedef.flatten_up_to(x) for x in (state["m"], state["v"], params))
        out = [self._layer(g, m, v, p, t.astype(m.dtype)) for g, m, v, p in zip(leaves, ms, vs, ps)]
        updates = treedef.unflatten([u.astype(jnp.result_type(g)) for (u, _, _), g in zip(out, leaves)])
        return updates, {"step": state["step"] + 1, "m": treedef.unflatten([o[1] for o in out]),
                         "v": treedef.unflatten([o[2] for o in out])}


class _Transform(NamedTuple):
    init: object
    update: object


def lamb_tuple(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    """Plain tuple state (count, m, v); the bias corrections folded into one step factor per leaf and a
    schedule called with the number of updates made."""

    def init(params):
        z = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_wide(p)), params)
        return (jnp.zeros([], jnp.int32), z, z)

    def update(grads, state, params=None):
        count, mu, nu = state
        t = count + 1
        lr = learning_rate(count) if callable(learning_rate) else learning_rate
        mu = jax.tree.map(lambda m, g: m + (1 - b1) * (jnp.asarray(g, m.dtype) - m), mu, grads)
        nu = jax.tree.map(lambda v, g: v + (1 - b2) * (jnp.square(jnp.asarray(g, v.dtype)) - v), nu, grads)

        def leaf(m, v, p, g):
            dt = m.dtype
            tt = t.astype(dt)
            c1, c2 = 1 - jnp.asarray(b1, dt) ** tt, 1 - jnp.asarray(b2, dt) ** tt
            r = (m / c1) / (jnp.sqrt(v / c2) + eps) + weight_decay * jnp.asarray(p, dt)
            pn = jnp.sqrt(jnp.vdot(jnp.asarray(p, dt), jnp.asarray(p, dt)))
            rn = jnp.sqrt(jnp.vdot(r, r))
            ratio = jnp.where(pn * rn > 0, pn / jnp.where(rn > 0, rn, 1.0), 1.0)
            return (-(lr * ratio) * r).astype(jnp.result_type(g))

        return jax.tree.map(leaf, mu, nu, params, grads), (t, mu, nu)

    return _Transform(init, update)
