"""Correct candidates for the "lion" spec (Chen et al. Program 1):
c = b1*m + (1-b1)*g; p <- p - lr*(sign(c) + weight_decay*p); m <- b2*m + (1-b2)*g."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from tests.candidates._mixed_precision import float32_compute


def lion_optax_chain(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3):
    """optax.chain(scale_by_lion, add_decayed_weights, scale_by_learning_rate), float32 statistics."""
    return float32_compute(optax.chain(
        optax.scale_by_lion(b1=b1, b2=b2),
        optax.add_decayed_weights(weight_decay),
        optax.scale_by_learning_rate(learning_rate),
    ))


def _wide(x):
    return jnp.asarray(x).astype(jnp.promote_types(jnp.result_type(x), jnp.float32))


class LionState(NamedTuple):
    step: jax.Array
    exp_avg: object


class Lion:
    """A class with methods, as lion-pytorch writes it: decay the weights first, then the signed step."""

    def __init__(self, learning_rate=1e-4, b1=0.9, b2=0.99, weight_decay=0.0, **kwargs):
        self.lr = float(learning_rate)
        self.betas = (b1, b2)
        self.wd = weight_decay

    def init(self, params):
        return LionState(jnp.zeros([], jnp.int32), jax.tree.map(lambda p: jnp.zeros_like(_wide(p)), params))

    def update(self, grads, state, params=None):
        b1, b2 = self.betas

        def leaf(g, m, p):
            g32, p32 = _wide(g), _wide(p)
            decayed = p32 * (1 - self.lr * self.wd)  # p.mul_(1 - lr*wd)
            direction = jnp.sign(m * b1 + g32 * (1 - b1))
            new_p = decayed - self.lr * direction
            return (new_p - p32).astype(jnp.result_type(g)), m * b2 + g32 * (1 - b2)

        pairs = jax.tree.map(leaf, grads, state.exp_avg, params)
        treedef = jax.tree.structure(grads)
        updates, m = jax.tree.transpose(treedef, jax.tree.structure((0, 0)), pairs)
        return updates, LionState(state.step + 1, m)


def lion_flat(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3, **kwargs):
    """Flat-vector version (ravel_pytree), dict state, lerp form: c = g + b1*(m - g)."""
    lr = float(learning_rate)

    def init(params):
        flat, _ = ravel_pytree(jax.tree.map(_wide, params))
        return {"m": jnp.zeros_like(flat)}

    def update(grads, state, params=None):
        g, unravel = ravel_pytree(jax.tree.map(_wide, grads))
        p, _ = ravel_pytree(jax.tree.map(_wide, params))
        m = state["m"]
        c = g + b1 * (m - g)
        u = -lr * (jnp.sign(c) + weight_decay * p)
        updates = jax.tree.map(lambda x, ref: x.astype(jnp.result_type(ref)), unravel(u), grads)
        return updates, {"m": m + (1 - b2) * (g - m)}

    return optax.GradientTransformation(init, update)
