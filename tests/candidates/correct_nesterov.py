"""Correct candidates for the "nesterov" spec: v <- mu*v + g; p <- p - lr*(g + mu*v)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from tests.candidates._mixed_precision import float32_compute


def nesterov_optax(learning_rate, momentum=0.9):
    """optax.sgd(lr, momentum, nesterov=True), run with float32 statistics for low-precision leaves."""
    return float32_compute(optax.sgd(learning_rate, momentum=momentum, nesterov=True))


class NesterovState(NamedTuple):
    count: jax.Array
    velocity: object


class Nesterov:
    """Nesterov as a class with methods, rewritten as p <- p - lr*((1+mu)*g + mu^2 * v_prev)."""

    def __init__(self, learning_rate, momentum=0.9):
        self.learning_rate = learning_rate
        self.momentum = momentum

    @staticmethod
    def _dtype(x):
        return jnp.promote_types(jnp.result_type(x), jnp.float32)

    def init(self, params):
        zeros = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=self._dtype(p)), params)
        return NesterovState(jnp.zeros([], jnp.int32), zeros)

    def update(self, grads, state, params=None):
        del params
        lr = self.learning_rate(state.count) if callable(self.learning_rate) else self.learning_rate

        def leaf(v_prev, g):
            mu = jnp.asarray(self.momentum, v_prev.dtype)
            g32 = jnp.asarray(g).astype(v_prev.dtype)
            v = mu * v_prev + g32
            step = (1 + mu) * g32 + mu * mu * v_prev
            return (-jnp.asarray(lr, v.dtype) * step).astype(jnp.result_type(g)), v

        pairs = jax.tree.map(leaf, state.velocity, grads)
        treedef = jax.tree.structure(grads)
        updates, velocity = jax.tree.transpose(treedef, jax.tree.structure((0, 0)), pairs)
        return updates, NesterovState(state.count + 1, velocity)
