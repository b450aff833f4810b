"""Correct candidates for the "adabelief" spec: s <- b2*s + (1-b2)*(g - m_t)^2 + eps_root; p <- p - lr*m_hat/(sqrt(s_hat) + eps)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from tests.candidates._mixed_precision import float32_compute


def adabelief_optax(learning_rate, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16):
    """optax.adabelief with float32 statistics for low-precision leaves."""
    return float32_compute(optax.adabelief(learning_rate, b1=b1, b2=b2, eps=eps, eps_root=eps_root))


class AdaBeliefState(NamedTuple):
    count: jax.Array
    exp_avg: object
    exp_avg_var: object


class AdaBelief:
    """AdaBelief as a class with methods (official adabelief_pytorch naming: exp_avg, exp_avg_var)."""

    def __init__(self, learning_rate, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16):
        self.lr, self.b1, self.b2, self.eps, self.eps_root = learning_rate, b1, b2, eps, eps_root

    def init(self, params):
        zeros = jax.tree.map(
            lambda p: jnp.zeros_like(p, dtype=jnp.promote_types(jnp.result_type(p), jnp.float32)), params
        )
        return AdaBeliefState(jnp.zeros([], jnp.int32), zeros, zeros)

    def _leaf(self, m, s, g, t, lr):
        dt = m.dtype
        b1, b2 = jnp.asarray(self.b1, dt), jnp.asarray(self.b2, dt)
        gw = jnp.asarray(g).astype(dt)
        m = b1 * m + (1 - b1) * gw
        s = b2 * s + (1 - b2) * jnp.square(gw - m) + jnp.asarray(self.eps_root, dt)
        tt = t.astype(dt)
        step_size = jnp.asarray(lr, dt) / (1 - b1**tt)
        denom = jnp.sqrt(s) / jnp.sqrt(1 - b2**tt) + jnp.asarray(self.eps, dt)
        return (-step_size * m / denom).astype(jnp.result_type(g)), m, s

    def update(self, grads, state, params=None):
        del params
        t = state.count + 1
        lr = self.lr(state.count) if callable(self.lr) else self.lr
        treedef = jax.tree.structure(grads)
        triples = [
            self._leaf(m, s, g, t, lr)
            for m, s, g in zip(
                treedef.flatten_up_to(state.exp_avg), treedef.flatten_up_to(state.exp_avg_var), treedef.flatten_up_to(grads)
            )
        ]
        updates, m, s = (treedef.unflatten(list(x)) for x in zip(*triples)) if triples else (grads, state.exp_avg, state.exp_avg_var)
        return updates, AdaBeliefState(t, m, s)
