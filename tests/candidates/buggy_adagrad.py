"""Buggy candidates for the "adagrad" spec (r <- r + g^2, r0 = initial_accumulator_value; p <- p - lr*g/(sqrt(r) + eps))."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import optax


def _dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def _adagrad(learning_rate, initial_accumulator_value, eps, *, scale=None, accumulate=None):
    """Correct skeleton: ``scale(g, r, eps)`` and tree-level ``accumulate(r_tree, g_tree)`` can carry a bug."""
    scale = scale or (lambda g, r, e: g / (jnp.sqrt(r) + e))
    accumulate = accumulate or (lambda r, g: jax.tree.map(lambda ri, gi: ri + gi * gi, r, g))

    def init(params):
        acc = jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value, dtype=_dtype(p)), params)
        return {"count": jnp.zeros([], jnp.int32), "acc": acc}

    def update(grads, state, params=None):
        del params
        g = jax.tree.map(lambda x, r: jnp.asarray(x).astype(r.dtype), grads, state["acc"])
        acc = accumulate(state["acc"], g)
        lr = _lr_at(learning_rate, state["count"])
        updates = jax.tree.map(
            lambda x, r, orig: (-jnp.asarray(lr, r.dtype) * scale(x, r, jnp.asarray(eps, r.dtype))).astype(
                jnp.result_type(orig)
            ),
            g,
            acc,
            grads,
        )
        return updates, {"count": state["count"] + 1, "acc": acc}

    return SimpleNamespace(init=init, update=update)


def eps_inside_sqrt(learning_rate, initial_accumulator_value=0.1, eps=1e-7):
    """BUG (eps-placement): g/sqrt(r + eps) (Keras 3 / optax convention) instead of g/(sqrt(r) + eps)."""
    return _adagrad(learning_rate, initial_accumulator_value, eps, scale=lambda g, r, e: g / jnp.sqrt(r + e))


def optax_adagrad(learning_rate, initial_accumulator_value=0.1, eps=1e-7):
    """BUG (optax-adagrad): optax.adagrad itself: rsqrt(r + eps) inside the sqrt, and 0 where the accumulator is 0."""
    return optax.adagrad(learning_rate, initial_accumulator_value=initial_accumulator_value, eps=eps)


def ignores_initial_accumulator(learning_rate, initial_accumulator_value=0.1, eps=1e-7):
    """BUG (ignored-hyperparameter): initial_accumulator_value accepted but 0.1 hard-coded (invisible at the default)."""
    del initial_accumulator_value
    return _adagrad(learning_rate, 0.1, eps)


def _tree_mean_accumulate(acc, g):
    leaves = jax.tree.leaves(g)
    total = sum(jnp.sum(x * x) for x in leaves)
    count = max(sum(x.size for x in leaves), 1)
    return jax.tree.map(lambda r: r + (total / count).astype(r.dtype), acc)


def global_tree_statistics(learning_rate, initial_accumulator_value=0.1, eps=1e-7):
    """BUG (global-statistics): accumulates the mean of g^2 over the WHOLE tree (one shared scale) instead of per coordinate."""
    return _adagrad(learning_rate, initial_accumulator_value, eps, accumulate=_tree_mean_accumulate)


def scalar_leaf_atleast_1d(learning_rate, initial_accumulator_value=0.1, eps=1e-7):
    """BUG (pytree): promotes every gradient with jnp.atleast_1d and never restores the shape: 0-d leaves get shape (1,) updates."""

    def init(params):
        acc = jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value, dtype=_dtype(p)), params)
        return {"count": jnp.zeros([], jnp.int32), "acc": acc}

    def update(grads, state, params=None):
        del params
        lr = _lr_at(learning_rate, state["count"])
        g = jax.tree.map(lambda x, r: jnp.atleast_1d(jnp.asarray(x).astype(r.dtype)), grads, state["acc"])
        acc = jax.tree.map(lambda r, x: r + x * x, state["acc"], g)
        updates = jax.tree.map(
            lambda x, r, orig: (-jnp.asarray(lr, r.dtype) * x / (jnp.sqrt(r) + jnp.asarray(eps, r.dtype))).astype(
                jnp.result_type(orig)
            ),
            g,
            acc,
            grads,
        )
        return updates, {"count": state["count"] + 1, "acc": acc}

    return SimpleNamespace(init=init, update=update)


def numpy_state_in_place(learning_rate, initial_accumulator_value=0.1, eps=1e-7):
    """BUG (mutation): accumulators are NumPy arrays updated in place (acc += g*g), so the caller's state changes (and jit fails)."""

    def init(params):
        acc = jax.tree.map(
            lambda p: np.full(np.shape(p), initial_accumulator_value, np.result_type(jnp.result_type(p), np.float32)),
            params,
        )
        return {"count": np.zeros((), np.int32), "acc": acc}

    def update(grads, state, params=None):
        del params
        lr = _lr_at(learning_rate, jnp.asarray(state["count"]))
        g_leaves, treedef = jax.tree.flatten(grads)
        updates = []
        for r, g in zip(treedef.flatten_up_to(state["acc"]), g_leaves):
            gw = np.asarray(g).astype(r.dtype)
            r += gw * gw  # in place: the caller's accumulator changes too
            u = -jnp.asarray(lr, r.dtype) * jnp.asarray(gw) / (jnp.sqrt(jnp.asarray(r)) + jnp.asarray(eps, r.dtype))
            updates.append(u.astype(jnp.result_type(g)))
        state["count"] += 1
        return treedef.unflatten(updates), state

    return SimpleNamespace(init=init, update=update)
