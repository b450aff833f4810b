"""Buggy candidates for the "momentum" spec (v <- mu*v + g, v0 = 0; p <- p - lr*v); one bug each."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def _heavy_ball(learning_rate, momentum, *, new_velocity, direction=lambda v, g, mu: v):
    """Correct skeleton; ``new_velocity(v, g, mu, count)`` and ``direction`` carry the bug."""

    def init(params):
        v = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)
        return {"count": jnp.zeros([], jnp.int32), "velocity": v}

    def update(grads, state, params=None):
        del params
        count = state["count"]
        g = jax.tree.map(lambda x, v: jnp.asarray(x).astype(v.dtype), grads, state["velocity"])
        mu = momentum
        velocity = jax.tree.map(
            lambda v, x: new_velocity(v, x, jnp.asarray(mu, v.dtype), count), state["velocity"], g
        )
        lr = _lr_at(learning_rate, count)
        updates = jax.tree.map(
            lambda v, x, orig: (-jnp.asarray(lr, v.dtype) * direction(v, x, jnp.asarray(mu, v.dtype))).astype(
                jnp.result_type(orig)
            ),
            velocity,
            g,
            grads,
        )
        return updates, {"count": count + 1, "velocity": velocity}

    return SimpleNamespace(init=init, update=update)


def dampened(learning_rate, momentum=0.9):
    """BUG (momentum-convention): EMA momentum v <- mu*v + (1-mu)*g (PyTorch dampening=momentum / 'momentum as EMA' tutorials)."""
    return _heavy_ball(learning_rate, momentum, new_velocity=lambda v, g, mu, c: mu * v + (1 - mu) * g)


def torch_first_step_buffer(learning_rate, momentum=0.9):
    """BUG (momentum-convention): torch.optim.SGD with dampening=momentum: buf = g on step 1, then mu*buf + (1-mu)*g."""
    return _heavy_ball(
        learning_rate,
        momentum,
        new_velocity=lambda v, g, mu, c: jnp.where(c == 0, g, mu * v + (1 - mu) * g),
    )


def as_nesterov(learning_rate, momentum=0.9):
    """BUG (wrong-rule): applies the Nesterov direction g + mu*v although the spec is plain heavy-ball."""
    return _heavy_ball(
        learning_rate,
        momentum,
        new_velocity=lambda v, g, mu, c: mu * v + g,
        direction=lambda v, g, mu: g + mu * v,
    )


def ignores_momentum(learning_rate, momentum=0.9):
    """BUG (ignored-hyperparameter): the momentum argument is accepted but 0.9 is hard-coded (invisible at the default)."""
    del momentum
    return _heavy_ball(learning_rate, 0.9, new_velocity=lambda v, g, mu, c: mu * v + g)


def mutates_state_dict(learning_rate, momentum=0.9):
    """BUG (mutation): writes the new velocity/count into the state dict it was given and returns that same dict."""

    def init(params):
        v = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)
        return {"count": jnp.zeros([], jnp.int32), "velocity": v}

    def update(grads, state, params=None):
        del params
        lr = _lr_at(learning_rate, state["count"])
        state["velocity"] = jax.tree.map(
            lambda v, g: jnp.asarray(momentum, v.dtype) * v + jnp.asarray(g).astype(v.dtype), state["velocity"], grads
        )
        state["count"] = state["count"] + 1
        updates = jax.tree.map(
            lambda v, g: (-jnp.asarray(lr, v.dtype) * v).astype(jnp.result_type(g)), state["velocity"], grads
        )
        return updates, state

    return SimpleNamespace(init=init, update=update)
