"""Correct candidates for the "adadelta" spec (Zeiler Algorithm 1, update scaled by lr after accumulation):
E[g^2] <- rho E[g^2] + (1-rho) g^2; d = sqrt(E[dx^2] + eps)/sqrt(E[g^2] + eps) g; E[dx^2] <- rho E[dx^2] + (1-rho) d^2;
p <- p - lr d."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from tests.candidates._mixed_precision import float32_compute


def _wide(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def adadelta_dict(learning_rate, rho=0.9, eps=1e-6, **kwargs):
    """From scratch the way a blog post writes it: float(lr) at build, dict state, **kwargs swallowed."""
    del kwargs  # weight_decay=0 and friends
    lr = float(learning_rate)

    def init(params):
        zeros = jax.tree.map(lambda p: jnp.zeros(jnp.shape(p), _wide(p)), params)
        return {"avg_sq_grad": zeros, "avg_sq_delta": jax.tree.map(jnp.copy, zeros)}

    def update(grads, state, params=None):
        g = jax.tree.map(lambda x, sg: jnp.asarray(x).astype(sg.dtype), grads, state["avg_sq_grad"])
        sq_grad = jax.tree.map(lambda sg, x: rho * sg + (1.0 - rho) * x**2, state["avg_sq_grad"], g)
        delta = jax.tree.map(lambda x, sg, sd: jnp.sqrt(sd + eps) / jnp.sqrt(sg + eps) * x,
                             g, sq_grad, state["avg_sq_delta"])
        sq_delta = jax.tree.map(lambda sd, d: rho * sd + (1.0 - rho) * d**2, state["avg_sq_delta"], delta)
        updates = jax.tree.map(lambda d, x: (-lr * d).astype(jnp.result_type(x)), delta, grads)
        return updates, {"avg_sq_grad": sq_grad, "avg_sq_delta": sq_delta}

    class _Tx(NamedTuple):
        init: object
        update: object

    return _Tx(init, update)


class AdadeltaState(NamedTuple):
    step: jax.Array
    msg: object  # mean square gradient
    msdx: object  # mean square update


class Adadelta:
    """Class with methods, Chainer-style arithmetic: one square root of the ratio, EMAs as x += (1-rho)(y - x)."""

    def __init__(self, learning_rate, rho=0.9, eps=1e-6):
        self.learning_rate, self.rho, self.eps = learning_rate, rho, eps

    def init(self, params):
        z = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_wide(p)), params)
        return AdadeltaState(jnp.zeros([], jnp.int32), z, z)

    def _lr(self, step):
        return self.learning_rate(step) if callable(self.learning_rate) else self.learning_rate

    def update(self, grads, state, params=None):
        lr = self._lr(state.step)
        one_minus_rho = 1 - self.rho
        msg = jax.tree.map(lambda m, g: m + one_minus_rho * (jnp.square(g.astype(m.dtype)) - m), state.msg, grads)
        dx = jax.tree.map(lambda g, m, s: jnp.sqrt((s + self.eps) / (m + self.eps)) * g.astype(m.dtype),
                          grads, msg, state.msdx)
        msdx = jax.tree.map(lambda s, d: s + one_minus_rho * (jnp.square(d) - s), state.msdx, dx)
        updates = jax.tree.map(lambda d, g: (-(lr * d)).astype(jnp.result_type(g)), dx, grads)
        return updates, AdadeltaState(state.step + 1, msg, msdx)


def adadelta_optax_chain(learning_rate, rho=0.9, eps=1e-6):
    """optax.chain(scale_by_adadelta, scale_by_learning_rate): the learning rate given (not optax's default None),
    float32 statistics for low-precision leaves."""
    return float32_compute(optax.chain(optax.scale_by_adadelta(rho=rho, eps=eps),
                                       optax.scale_by_learning_rate(learning_rate)))


def adadelta_flat(learning_rate, rho=0.9, eps=1e-6):
    """Both averages as single flat vectors (jax.flatten_util.ravel_pytree)."""

    def init(params):
        flat, _ = ravel_pytree(params)
        z = jnp.zeros_like(flat, dtype=_wide(flat))
        return {"count": jnp.zeros([], jnp.int32), "eg": z, "ex": z}

    def update(grads, state, params=None):
        del params
        flat_g, unravel = ravel_pytree(grads)
        dt = state["eg"].dtype
        g = flat_g.astype(dt)
        eg = jnp.asarray(rho, dt) * state["eg"] + jnp.asarray(1 - rho, dt) * g * g
        d = jnp.sqrt(state["ex"] + jnp.asarray(eps, dt)) / jnp.sqrt(eg + jnp.asarray(eps, dt)) * g
        ex = jnp.asarray(rho, dt) * state["ex"] + jnp.asarray(1 - rho, dt) * d * d
        lr = learning_rate(state["count"]) if callable(learning_rate) else learning_rate
        updates = unravel((-jnp.asarray(lr, dt) * d).astype(flat_g.dtype))
        updates = jax.tree.map(lambda u, gi: u.astype(jnp.result_type(gi)), updates, grads)
        return updates, {"count": state["count"] + 1, "eg": eg, "ex": ex}

    return optax.GradientTransformation(init, update)
