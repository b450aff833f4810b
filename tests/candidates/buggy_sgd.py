"""Buggy candidates for the "sgd" spec (p <- p - lr*g); each has exactly one deliberate bug."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _sgd(learning_rate, *, sign=-1.0, lr_power=1, schedule_offset=0):
    def init(params):
        del params
        return {"count": jnp.zeros([], jnp.int32)}

    def update(grads, state, params=None):
        del params
        count = state["count"]
        lr = learning_rate(count + schedule_offset) if callable(learning_rate) else learning_rate

        def leaf(g):
            g = jnp.asarray(g)
            cd = jnp.promote_types(g.dtype, jnp.float32)
            return (sign * jnp.asarray(lr, cd) ** lr_power * g.astype(cd)).astype(g.dtype)

        return jax.tree.map(leaf, grads), {"count": count + 1}

    return SimpleNamespace(init=init, update=update)


def sign_flipped(learning_rate):
    """BUG (wrong-rule): returns +lr*g, i.e. gradient ascent (forgot that updates are ADDED, cf. optax flip_sign)."""
    return _sgd(learning_rate, sign=+1.0)


def lr_applied_twice(learning_rate):
    """BUG (wrong-rule): lr multiplied in twice (scale_by_learning_rate stacked on an already-scaled update) -> lr^2."""
    return _sgd(learning_rate, lr_power=2)


def schedule_off_by_one(learning_rate):
    """BUG (schedule): calls the schedule with count + 1 (1-based step), so step 1 already uses lr(1)."""
    return _sgd(learning_rate, schedule_offset=1)


def flat_dict_only(learning_rate):
    """BUG (pytree): iterates grads.items(), so it works for a flat dict of arrays but breaks on nested trees/tuples/arrays."""

    def init(params):
        del params
        return {"count": jnp.zeros([], jnp.int32)}

    def update(grads, state, params=None):
        del params
        count = state["count"]
        lr = learning_rate(count) if callable(learning_rate) else learning_rate
        updates = {}
        for name, g in grads.items():
            cd = jnp.promote_types(jnp.result_type(g), jnp.float32)
            updates[name] = (-jnp.asarray(lr, cd) * jnp.asarray(g, cd)).astype(jnp.result_type(g))
        return updates, {"count": count + 1}

    return SimpleNamespace(init=init, update=update)
