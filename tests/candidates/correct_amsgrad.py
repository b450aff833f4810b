"""Correct candidates for the "amsgrad" spec: Adam with the running max of the raw v (torch/Keras form)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree


def _wide(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def _zeros(params):
    return jax.tree.map(lambda p: jnp.zeros(jnp.shape(p), _wide(p)), params)


class _Transform(NamedTuple):
    init: object
    update: object


def amsgrad_dict(learning_rate, b1=0.9, b2=0.999, eps=1e-8, **kwargs):
    """dict state, max of exp_avg_sq, then sqrt(max)/sqrt(1 - b2^t) + eps, as torch/optim/adam.py."""

    def init(params):
        return {"step": jnp.zeros([], jnp.int32), "exp_avg": _zeros(params), "exp_avg_sq": _zeros(params),
                "max_exp_avg_sq": _zeros(params)}

    def update(grads, state, params=None):
        step = state["step"] + 1
        lr = _lr_at(learning_rate, state["step"])
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["exp_avg"])
        m = jax.tree.map(lambda m, x: b1 * m + (1 - b1) * x, state["exp_avg"], g)
        v = jax.tree.map(lambda v, x: b2 * v + (1 - b2) * x * x, state["exp_avg_sq"], g)
        vmax = jax.tree.map(jnp.maximum, state["max_exp_avg_sq"], v)

        def leaf(m, vm, orig):
            dt = m.dtype
            t = step.astype(dt)
            step_size = jnp.asarray(lr, dt) / (1 - jnp.asarray(b1, dt) ** t)
            denom = jnp.sqrt(vm) / jnp.sqrt(1 - jnp.asarray(b2, dt) ** t) + eps
            return (-step_size * m / denom).astype(jnp.result_type(orig))

        updates = jax.tree.map(leaf, m, vmax, grads)
        return updates, {"step": step, "exp_avg": m, "exp_avg_sq": v, "max_exp_avg_sq": vmax}

    return _Transform(init, update)


class Amsgrad:
    """A class with methods and tuple state; keeps the running max of sqrt(v) (sqrt is monotone: same max)."""

    def __init__(self, learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.lr = float(learning_rate)
        self.b1, self.b2, self.eps = b1, b2, eps

    def init(self, params):
        return (jnp.zeros([], jnp.int32), _zeros(params), _zeros(params), _zeros(params))

    def update(self, grads, state, params=None):
        t, m, v, root_max = state
        t = t + 1
        g = jax.tree.map(lambda x, ref: jnp.asarray(x).astype(ref.dtype), grads, m)
        m = jax.tree.map(lambda a, x: self.b1 * a + (1 - self.b1) * x, m, g)
        v = jax.tree.map(lambda a, x: self.b2 * a + (1 - self.b2) * jnp.square(x), v, g)
        root_max = jax.tree.map(lambda r, a: jnp.maximum(r, jnp.sqrt(a)), root_max, v)

        def leaf(a, r, orig):
            tf = t.astype(a.dtype)
            c1, c2 = 1 - jnp.asarray(self.b1, a.dtype) ** tf, jnp.sqrt(1 - jnp.asarray(self.b2, a.dtype) ** tf)
            return (-self.lr * (a / c1) / (r / c2 + self.eps)).astype(jnp.result_type(orig))

        updates = jax.tree.map(leaf, m, root_max, grads)
        return updates, (t, m, v, root_max)


def amsgrad_flat(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """One flat vector (ravel_pytree), constant float learning rate."""
    lr = float(learning_rate)

    def init(params):
        flat, _ = ravel_pytree(params)
        z = jnp.zeros(flat.shape, _wide(flat))
        return (jnp.zeros([], jnp.int32), z, z, z)

    def update(grads, state, params=None):
        count, m, v, vmax = state
        g, unravel = ravel_pytree(grads)
        g = g.astype(m.dtype)
        t = (count + 1).astype(m.dtype)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = jnp.maximum(vmax, v)
        u = -lr * (m / (1 - b1 ** t)) / (jnp.sqrt(vmax / (1 - b2 ** t)) + eps)
        leaves, treedef = jax.tree.flatten(grads)
        out = jax.tree.unflatten(treedef, [x.astype(jnp.result_type(l)) for x, l in zip(jax.tree.leaves(unravel(u)), leaves)])
        return out, (count + 1, m, v, vmax)

    return _Transform(init, update)
