"""Buggy candidates for the "adamax" spec (u <- max(b2*u, |g| + eps); p <- p - lr*(m/(1-b1^t))/u); one bug each."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _correct_norm(u, g, b2, eps):
    return jnp.maximum(b2 * u, jnp.abs(g) + eps)


def _correct_step(m, u, t, b1, eps):
    return m / (1 - b1**t) / u


def _adamax(learning_rate, b1, b2, eps, *, norm=_correct_norm, step=_correct_step):
    """Correct skeleton: ``norm(u, g, b2, eps)`` or ``step(m, u, t, b1, eps)`` carries the bug."""

    def init(params):
        z = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=jnp.promote_types(jnp.result_type(p), jnp.float32)), params)
        return {"count": jnp.zeros([], jnp.int32), "mu": z, "nu": z}

    def update(grads, state, params=None):
        del params
        t = state["count"] + 1
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["mu"])
        mu = jax.tree.map(lambda m, x: jnp.asarray(b1, m.dtype) * m + jnp.asarray(1 - b1, m.dtype) * x, state["mu"], g)
        nu = jax.tree.map(lambda u, x: norm(u, x, jnp.asarray(b2, u.dtype), jnp.asarray(eps, u.dtype)), state["nu"], g)
        lr = learning_rate(state["count"]) if callable(learning_rate) else learning_rate

        def leaf(m, u, orig):
            dt = m.dtype
            d = step(m, u, t.astype(dt), jnp.asarray(b1, dt), jnp.asarray(eps, dt))
            return (-jnp.asarray(lr, dt) * d).astype(jnp.result_type(orig))

        return jax.tree.map(leaf, mu, nu, grads), {"count": t, "mu": mu, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def keras_adamax(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (eps-placement): Keras 3 Adamax: u <- max(b2*u, |g|) and divide by (u + eps) (keras/src/optimizers/adamax.py)."""
    return _adamax(
        learning_rate, b1, b2, eps,
        norm=lambda u, g, b2, e: jnp.maximum(b2 * u, jnp.abs(g)),
        step=lambda m, u, t, b1, e: m / (1 - b1**t) / (u + e),
    )


def bias_correction_off_by_one(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): divides by 1 - b1^(t+1) (count incremented twice / initialised at 1)."""
    return _adamax(learning_rate, b1, b2, eps, step=lambda m, u, t, b1, e: m / (1 - b1 ** (t + 1)) / u)


def no_bias_correction(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): the first moment is never bias-corrected (m / u)."""
    return _adamax(learning_rate, b1, b2, eps, step=lambda m, u, t, b1, e: m / u)


def ignores_eps(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (ignored-hyperparameter): eps accepted but 1e-8 hard-coded (invisible at the default)."""
    del eps
    return _adamax(learning_rate, b1, b2, 1e-8)
