"""Buggy candidates for the "adam" spec (Kingma & Ba Algorithm 1, m_hat/(sqrt(v_hat) + eps)); one bug each."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def _zeros(params):
    return jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)


def _correct_direction(m, v, t, b1, b2, eps):
    return (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + eps)


def _adam(learning_rate, b1, b2, eps, *, direction=_correct_direction, second_moment=None, schedule_offset=0):
    """Correct skeleton: ``direction``, ``second_moment(v, g, b2)`` or ``schedule_offset`` carries the bug."""
    second_moment = second_moment or (lambda v, g, beta2: beta2 * v + (1 - beta2) * g * g)

    def init(params):
        return {"count": jnp.zeros([], jnp.int32), "mu": _zeros(params), "nu": _zeros(params)}

    def update(grads, state, params=None):
        del params
        t = state["count"] + 1
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["mu"])
        mu = jax.tree.map(lambda m, x: jnp.asarray(b1, m.dtype) * m + jnp.asarray(1 - b1, m.dtype) * x, state["mu"], g)
        nu = jax.tree.map(lambda v, x: second_moment(v, x, jnp.asarray(b2, v.dtype)), state["nu"], g)
        lr = _lr_at(learning_rate, state["count"] + schedule_offset)

        def leaf(m, v, orig):
            dt = m.dtype
            d = direction(m, v, t.astype(dt), jnp.asarray(b1, dt), jnp.asarray(b2, dt), jnp.asarray(eps, dt))
            return (-jnp.asarray(lr, dt) * d).astype(jnp.result_type(orig))

        return jax.tree.map(leaf, mu, nu, grads), {"count": t, "mu": mu, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def eps_inside_sqrt(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (eps-placement): m_hat / sqrt(v_hat + eps) (optax's eps_root slot used as eps); shows with tiny gradients."""
    return _adam(learning_rate, b1, b2, eps, direction=lambda m, v, t, b1, b2, e: (m / (1 - b1**t)) / jnp.sqrt(v / (1 - b2**t) + e))


def no_bias_correction_m(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): first moment not bias-corrected (m / (sqrt(v_hat) + eps))."""
    return _adam(learning_rate, b1, b2, eps, direction=lambda m, v, t, b1, b2, e: m / (jnp.sqrt(v / (1 - b2**t)) + e))


def no_bias_correction_v(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): second moment not bias-corrected (m_hat / (sqrt(v) + eps))."""
    return _adam(learning_rate, b1, b2, eps, direction=lambda m, v, t, b1, b2, e: (m / (1 - b1**t)) / (jnp.sqrt(v) + e))


def no_bias_correction(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): neither moment bias-corrected (RMSprop-with-momentum-like m / (sqrt(v) + eps))."""
    return _adam(learning_rate, b1, b2, eps, direction=lambda m, v, t, b1, b2, e: m / (jnp.sqrt(v) + e))


def bias_correction_off_by_one(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): both corrections use 1 - b^(t+1) (counter incremented before use and again in the formula)."""
    return _adam(
        learning_rate, b1, b2, eps,
        direction=lambda m, v, t, b1, b2, e: _correct_direction(m, v, t + 1, b1, b2, e),
    )


def keras_eps_hat(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (eps-hat): TF/Keras form lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v) + eps) with eps NOT rescaled (optax #571, tensorflow #35102)."""
    return _adam(
        learning_rate, b1, b2, eps,
        direction=lambda m, v, t, b1, b2, e: jnp.sqrt(1 - b2**t) / (1 - b1**t) * m / (jnp.sqrt(v) + e),
    )


def nan_eps_precedence(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (nan): precedence slip m_hat / sqrt(v_hat) + eps, so zero gradients give 0/0 = NaN."""
    return _adam(learning_rate, b1, b2, eps, direction=lambda m, v, t, b1, b2, e: (m / (1 - b1**t)) / jnp.sqrt(v / (1 - b2**t)) + e)


def ignores_b2(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (ignored-hyperparameter): b2 accepted but 0.999 hard-coded (invisible at the default)."""
    del b2
    return _adam(learning_rate, b1, 0.999, eps)


def leaf_mean_second_moment(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (global-statistics): v tracks mean(g^2) over each leaf (one scale per tensor, Adafactor-like) instead of per coordinate."""
    return _adam(
        learning_rate, b1, b2, eps,
        second_moment=lambda v, g, beta2: beta2 * v + (1 - beta2) * jnp.mean(g * g) * jnp.ones_like(v),
    )


def schedule_one_based(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (schedule): passes Adam's 1-based step t to the schedule instead of the number of updates made (count)."""
    return _adam(learning_rate, b1, b2, eps, schedule_offset=1)


def python_step_counter(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (impure): step number kept in a Python closure variable; update twice with one state advances t, and jit freezes t at 1."""
    step = 0

    def init(params):
        return {"mu": _zeros(params), "nu": _zeros(params)}

    def update(grads, state, params=None):
        nonlocal step
        del params
        step += 1
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["mu"])
        mu = jax.tree.map(lambda m, x: b1 * m + (1 - b1) * x, state["mu"], g)
        nu = jax.tree.map(lambda v, x: b2 * v + (1 - b2) * x * x, state["nu"], g)
        lr = _lr_at(learning_rate, step - 1)
        updates = jax.tree.map(
            lambda m, v, orig: (-lr * _correct_direction(m, v, step, b1, b2, eps)).astype(jnp.result_type(orig)),
            mu,
            nu,
            grads,
        )
        return updates, {"mu": mu, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def host_bias_correction(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (tracing): bias corrections computed on the host with int(count); under jit the ConcretizationTypeError is caught and they are silently skipped."""

    def init(params):
        return {"count": jnp.zeros([], jnp.int32), "mu": _zeros(params), "nu": _zeros(params)}

    def update(grads, state, params=None):
        del params
        try:
            t = int(state["count"]) + 1
            bc1, bc2 = 1 - b1**t, 1 - b2**t
        except jax.errors.ConcretizationTypeError:
            bc1 = bc2 = 1.0  # traced: "bias correction is negligible after warm-up"
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["mu"])
        mu = jax.tree.map(lambda m, x: b1 * m + (1 - b1) * x, state["mu"], g)
        nu = jax.tree.map(lambda v, x: b2 * v + (1 - b2) * x * x, state["nu"], g)
        lr = _lr_at(learning_rate, state["count"])
        updates = jax.tree.map(
            lambda m, v, orig: (-lr * (m / bc1) / (jnp.sqrt(v / bc2) + eps)).astype(jnp.result_type(orig)), mu, nu, grads
        )
        return updates, {"count": state["count"] + 1, "mu": mu, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def single_array_only(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (pytree): written for one array (jnp.zeros_like(params), arithmetic on grads directly), so any dict/tuple/list tree fails."""

    def init(params):
        return (jnp.zeros([], jnp.int32), jnp.zeros_like(params, dtype=_dtype(params)), jnp.zeros_like(params, dtype=_dtype(params)))

    def update(grads, state, params=None):
        del params
        count, m, v = state
        t = count + 1
        g = jnp.asarray(grads).astype(m.dtype)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        lr = _lr_at(learning_rate, count)
        u = -lr * _correct_direction(m, v, t.astype(m.dtype), b1, b2, eps)
        return u.astype(jnp.result_type(grads)), (t, m, v)

    return SimpleNamespace(init=init, update=update)
