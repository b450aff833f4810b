"""Buggy candidates for the "nesterov" spec (v <- mu*v + g; p <- p - lr*(g + mu*v)); one bug each."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _nesterov(learning_rate, momentum, *, compute_dtype=None, cast_back=True, plain=False, frozen_schedule=False):
    """Correct skeleton; exactly one keyword switches on a bug."""
    if frozen_schedule and callable(learning_rate):
        learning_rate = learning_rate(0)

    def dtype_of(x):
        return compute_dtype or jnp.promote_types(jnp.result_type(x), jnp.float32)

    def init(params):
        return (jnp.zeros([], jnp.int32), jax.tree.map(lambda p: jnp.zeros_like(p, dtype=dtype_of(p)), params))

    def update(grads, state, params=None):
        del params
        count, velocity = state
        lr = learning_rate(count) if callable(learning_rate) else learning_rate

        def leaf(v, g):
            mu = jnp.asarray(momentum, v.dtype)
            gw = jnp.asarray(g).astype(v.dtype)
            v = mu * v + gw
            direction = v if plain else gw + mu * v
            u = -jnp.asarray(lr, v.dtype) * direction
            return (u.astype(jnp.result_type(g)) if cast_back else u), v

        treedef = jax.tree.structure(grads)
        pairs = treedef.flatten_up_to(jax.tree.map(leaf, velocity, grads))
        updates = treedef.unflatten([p[0] for p in pairs])
        velocity = treedef.unflatten([p[1] for p in pairs])
        return updates, (count + 1, velocity)

    return SimpleNamespace(init=init, update=update)


def plain_momentum(learning_rate, momentum=0.9):
    """BUG (wrong-rule): 'nesterov' that returns the heavy-ball direction v (the nesterov flag is never honoured)."""
    return _nesterov(learning_rate, momentum, plain=True)


def float32_updates(learning_rate, momentum=0.9):
    """BUG (dtype-drift): computes everything in float32 and returns float32 updates for bf16/f16/f64 leaves."""
    return _nesterov(learning_rate, momentum, compute_dtype=jnp.float32, cast_back=False)


def schedule_frozen(learning_rate, momentum=0.9):
    """BUG (schedule): evaluates a schedule once at construction (lr = schedule(0)) and uses that constant forever."""
    return _nesterov(learning_rate, momentum, frozen_schedule=True)
