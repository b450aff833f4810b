"""Correct candidates for the "sgd" spec: p <- p - lr * g."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _compute_dtype(g):
    return jnp.promote_types(jnp.result_type(g), jnp.float32)


def sgd_dict(learning_rate):
    """SGD with a dict state {"count": int32}; the schedule is called with the updates made so far."""

    def init(params):
        del params
        return {"count": jnp.zeros([], jnp.int32)}

    def update(grads, state, params=None):
        del params
        count = state["count"]
        lr = learning_rate(count) if callable(learning_rate) else learning_rate

        def leaf(g):
            g = jnp.asarray(g)
            cd = _compute_dtype(g)
            return (-jnp.asarray(lr, cd) * g.astype(cd)).astype(g.dtype)

        return jax.tree.map(leaf, grads), {"count": count + 1}

    return SimpleNamespace(init=init, update=update)


class SGDClass:
    """SGD as a class with init/update methods; the state is a plain 1-tuple ``(count,)``."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def _lr(self, count):
        return self.learning_rate(count) if callable(self.learning_rate) else self.learning_rate

    def init(self, params):
        del params
        return (jnp.array(0, dtype=jnp.int32),)

    def update(self, grads, state, params=None):
        del params
        (count,) = state
        lr = self._lr(count)
        updates = jax.tree.map(
            lambda g: jnp.negative(jnp.multiply(lr, jnp.asarray(g, _compute_dtype(g)))).astype(
                jnp.result_type(g)
            ),
            grads,
        )
        return updates, (count + 1,)
