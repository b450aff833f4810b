"""Correct candidates for the "signum" spec (Bernstein et al. Algorithm 3):
v <- beta*v + (1-beta)*g; p <- p - lr*sign(v); signSGD at beta = 0."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from tests.candidates._mixed_precision import float32_compute


def _wide(x):
    return jnp.asarray(x).astype(jnp.promote_types(jnp.result_type(x), jnp.float32))


def signum_optax_trace(learning_rate, beta=0.9):
    """optax.chain(trace(decay=beta), scale_by_sign, scale_by_learning_rate): heavy-ball trace
    v = beta*v + g, which has the sign of the EMA (v_trace = v_ema / (1 - beta)); float32 statistics."""
    return float32_compute(optax.chain(
        optax.trace(decay=beta), optax.scale_by_sign(), optax.scale_by_learning_rate(learning_rate)))


class SignumState(NamedTuple):
    momentum_buffer: object


class Signum:
    """A class with methods, torch.optim.SGD-style buffer (dampening = 0, started at zero), signed."""

    def __init__(self, learning_rate=0.01, beta=0.9, **kwargs):
        self.lr = float(learning_rate)
        self.momentum = beta

    def init(self, params):
        return SignumState(jax.tree.map(lambda p: jnp.zeros_like(_wide(p)), params))

    def update(self, grads, state, params=None):
        bufs = jax.tree.map(lambda b, g: self.momentum * b + _wide(g), state.momentum_buffer, grads)
        updates = jax.tree.map(lambda b, g: (-self.lr * jnp.sign(b)).astype(jnp.result_type(g)), bufs, grads)
        return updates, SignumState(bufs)


def signum_flat(learning_rate, beta=0.9, **kwargs):
    """Flat-vector version (ravel_pytree), dict state, debiased EMA m / (1 - beta^t) (same sign)."""
    lr = float(learning_rate)

    def init(params):
        flat, _ = ravel_pytree(jax.tree.map(_wide, params))
        return {"m": jnp.zeros_like(flat), "t": jnp.zeros([], jnp.int32)}

    def update(grads, state, params=None):
        g, unravel = ravel_pytree(jax.tree.map(_wide, grads))
        t = state["t"] + 1
        m = beta * state["m"] + (1 - beta) * g
        m_hat = m / (1 - jnp.asarray(beta, m.dtype) ** t.astype(m.dtype))
        updates = jax.tree.map(lambda x, ref: x.astype(jnp.result_type(ref)), unravel(-lr * jnp.sign(m_hat)), grads)
        return updates, {"m": m, "t": t}

    return optax.GradientTransformation(init, update)


def optax_sign_sgd(learning_rate, beta=0.0, **kwargs):
    """optax.sign_sgd, which takes no momentum: signum at beta = 0 (beta swallowed, as **kwargs code does).

    Check it as signum at beta = 0 with a port run (docs/conventions.md):
    --optim=tests.candidates.correct_signum:optax_sign_sgd --optim-reference=optimizers.signum:signum@signum
    --optim-hp=beta=0. Against the spec at its default beta = 0.9 it is the convention [sign_sgd].
    """
    del beta, kwargs
    return optax.sign_sgd(learning_rate)
