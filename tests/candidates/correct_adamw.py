"""Correct candidates for the "adamw" spec: p <- p - lr*(m_hat/(sqrt(v_hat) + eps) + weight_decay*p)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from tests.candidates._mixed_precision import float32_compute


def _wide(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def adamw_optax_chain(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """optax.chain(scale_by_adam, add_decayed_weights, scale_by_learning_rate), float32 statistics."""
    return float32_compute(optax.chain(
        optax.scale_by_adam(b1=b1, b2=b2, eps=eps),
        optax.add_decayed_weights(weight_decay),
        optax.scale_by_learning_rate(learning_rate),
    ))


class AdamW:
    """A class with methods and a dict state; a constant learning rate; decay first, as torch.optim.AdamW."""

    def __init__(self, learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-2, **kwargs):
        self.lr = float(learning_rate)
        self.b1, self.b2, self.eps, self.wd = b1, b2, eps, weight_decay

    def init(self, params):
        zeros = jax.tree.map(lambda p: jnp.zeros(jnp.shape(p), _wide(p)), params)
        return {"step": jnp.zeros([], jnp.int32), "exp_avg": zeros, "exp_avg_sq": zeros}

    def update(self, grads, state, params):
        step = state["step"] + 1

        def leaf(g, m, v, p):
            dt = m.dtype
            t = step.astype(dt)
            bc1 = 1 - jnp.asarray(self.b1, dt) ** t
            bc2_sqrt = jnp.sqrt(1 - jnp.asarray(self.b2, dt) ** t)
            g, p = jnp.asarray(g).astype(dt), jnp.asarray(p).astype(dt)
            m = m + (1 - self.b1) * (g - m)  # lerp, as torch's exp_avg.lerp_(grad, 1 - beta1)
            v = self.b2 * v + (1 - self.b2) * g * g
            decayed = -(self.lr * self.wd) * p  # param.mul_(1 - lr*wd), as an update
            step_ = -(self.lr / bc1) * m / (jnp.sqrt(v) / bc2_sqrt + self.eps)
            return decayed + step_, m, v

        out = jax.tree.map(leaf, grads, state["exp_avg"], state["exp_avg_sq"], params)
        treedef = jax.tree.structure(grads)
        parts = treedef.flatten_up_to(out)
        updates = treedef.unflatten([u.astype(jnp.result_type(g)) for (u, _, _), g in zip(parts, treedef.flatten_up_to(grads))])
        return updates, {"step": step, "exp_avg": treedef.unflatten([m for _, m, _ in parts]),
                         "exp_avg_sq": treedef.unflatten([v for _, _, v in parts])}


class _Flat(NamedTuple):
    t: jax.Array
    m: jax.Array
    v: jax.Array


class _Transform(NamedTuple):
    init: object
    update: object


def adamw_flat(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """Everything on one flat vector (ravel_pytree); a schedule is called with the 0-based count."""

    def lr_at(count):
        return learning_rate(count) if callable(learning_rate) else learning_rate

    def init(params):
        flat, _ = ravel_pytree(params)
        z = jnp.zeros(flat.shape, _wide(flat))
        return _Flat(jnp.zeros([], jnp.int32), z, z)

    def update(grads, state, params):
        g, unravel = ravel_pytree(grads)
        p, _ = ravel_pytree(params)
        dt = state.m.dtype
        g, p = g.astype(dt), p.astype(dt)
        t = state.t + 1
        m = b1 * state.m + (1 - b1) * g
        v = b2 * state.v + (1 - b2) * g * g
        tt = t.astype(dt)
        direction = (m / (1 - b1 ** tt)) / (jnp.sqrt(v / (1 - b2 ** tt)) + eps) + weight_decay * p
        u = -jnp.asarray(lr_at(state.t), dt) * direction
        leaves, treedef = jax.tree.flatten(grads)
        out = jax.tree.unflatten(treedef, [x.astype(jnp.result_type(l)) for x, l in
                                           zip(jax.tree.leaves(unravel(u)), leaves)])
        return out, _Flat(t, m, v)

    return _Transform(init, update)
