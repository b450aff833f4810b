"""Buggy candidates for the "nadam" spec (optax.nadam: m_hat = b1*m/(1-b1^(t+1)) + (1-b1)*g/(1-b1^t)); one bug each."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def _correct_m_hat(m, g, t, b1):
    return b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)


def _nadam(learning_rate, b1, b2, eps, *, m_hat=_correct_m_hat, bias_correct_v=True, v_step_offset=0):
    """Correct skeleton: ``m_hat(m, g, t, b1)``, ``bias_correct_v`` or ``v_step_offset`` carries the bug."""

    def init(params):
        z = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)
        return {"count": jnp.zeros([], jnp.int32), "mu": z, "nu": z}

    def update(grads, state, params=None):
        del params
        t = state["count"] + 1
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["mu"])
        mu = jax.tree.map(lambda m, x: jnp.asarray(b1, m.dtype) * m + jnp.asarray(1 - b1, m.dtype) * x, state["mu"], g)
        nu = jax.tree.map(lambda v, x: jnp.asarray(b2, v.dtype) * v + jnp.asarray(1 - b2, v.dtype) * x * x, state["nu"], g)
        lr = _lr_at(learning_rate, state["count"])

        def leaf(m, v, x, orig):
            dt = m.dtype
            tt, beta1, beta2 = t.astype(dt), jnp.asarray(b1, dt), jnp.asarray(b2, dt)
            v_hat = v / (1 - beta2 ** (tt + v_step_offset)) if bias_correct_v else v
            d = m_hat(m, x, tt, beta1) / (jnp.sqrt(v_hat) + jnp.asarray(eps, dt))
            return (-jnp.asarray(lr, dt) * d).astype(jnp.result_type(orig))

        return jax.tree.map(leaf, mu, nu, g, grads), {"count": t, "mu": mu, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def lookahead_exponent_dropped(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): momentum term divided by 1 - b1^t instead of 1 - b1^(t+1) (the look-ahead exponent dropped)."""
    return _nadam(
        learning_rate, b1, b2, eps,
        m_hat=lambda m, g, t, b1: b1 * m / (1 - b1**t) + (1 - b1) * g / (1 - b1**t),
    )


def bias_correction_off_by_one(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): every bias correction uses t+1 for t (step counter effectively starting at 1)."""
    return _nadam(
        learning_rate, b1, b2, eps,
        m_hat=lambda m, g, t, b1: _correct_m_hat(m, g, t + 1, b1),
        v_step_offset=1,
    )


def no_bias_correction_v(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): second moment used raw (sqrt(v) + eps), no 1/(1 - b2^t)."""
    return _nadam(learning_rate, b1, b2, eps, bias_correct_v=False)


def _scheduled_nadam(learning_rate, b1, b2, eps, psi):
    """NAdam with Dozat's momentum schedule mu_t = b1*(1 - 0.5*0.96^(t*psi)) and the running product of mu."""

    def init(params):
        z = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)
        return {"count": jnp.zeros([], jnp.int32), "mu_product": jnp.ones([], jnp.float32), "mu": z, "nu": z}

    def update(grads, state, params=None):
        del params
        t = (state["count"] + 1).astype(jnp.float32)
        mu_t = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1.0) * psi))
        prod = state["mu_product"] * mu_t
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["mu"])
        mu = jax.tree.map(lambda m, x: jnp.asarray(b1, m.dtype) * m + jnp.asarray(1 - b1, m.dtype) * x, state["mu"], g)
        nu = jax.tree.map(lambda v, x: jnp.asarray(b2, v.dtype) * v + jnp.asarray(1 - b2, v.dtype) * x * x, state["nu"], g)
        lr = _lr_at(learning_rate, state["count"])

        def leaf(m, v, x, orig):
            dt = m.dtype
            m_hat = (1 - mu_t.astype(dt)) * x / (1 - prod.astype(dt)) + mu_next.astype(dt) * m / (1 - (prod * mu_next).astype(dt))
            v_hat = v / (1 - jnp.asarray(b2, dt) ** t.astype(dt))
            return (-jnp.asarray(lr, dt) * m_hat / (jnp.sqrt(v_hat) + jnp.asarray(eps, dt))).astype(jnp.result_type(orig))

        new_state = {"count": state["count"] + 1, "mu_product": prod, "mu": mu, "nu": nu}
        return jax.tree.map(leaf, mu, nu, g, grads), new_state

    return SimpleNamespace(init=init, update=update)


def torch_nadam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (nadam-schedule): torch.optim.NAdam's momentum schedule mu_t = b1*(1 - 0.5*0.96^(0.004 t)) with product bias correction (optax PR #719)."""
    return _scheduled_nadam(learning_rate, b1, b2, eps, psi=0.004)


def keras_nadam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (nadam-schedule): Keras 3 Nadam's schedule mu_t = b1*(1 - 0.5*0.96^t) (no psi) with product bias correction."""
    return _scheduled_nadam(learning_rate, b1, b2, eps, psi=1.0)


class NadamWithStepAttribute:
    """BUG (impure): NAdam whose step count lives in ``self.t`` (incremented in update), not in the returned state."""

    def __init__(self, learning_rate, b1=0.9, b2=0.999, eps=1e-8):
        self.learning_rate, self.b1, self.b2, self.eps = learning_rate, b1, b2, eps
        self.t = 0

    def init(self, params):
        z = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)
        return (z, z)

    def update(self, grads, state, params=None):
        del params
        self.t += 1
        b1, b2, t = self.b1, self.b2, self.t
        lr = _lr_at(self.learning_rate, t - 1)
        m_prev, v_prev = state
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, m_prev)
        m = jax.tree.map(lambda m, x: b1 * m + (1 - b1) * x, m_prev, g)
        v = jax.tree.map(lambda v, x: b2 * v + (1 - b2) * x * x, v_prev, g)

        def leaf(m, v, x, orig):
            d = _correct_m_hat(m, x, t, b1) / (jnp.sqrt(v / (1 - b2**t)) + self.eps)
            return (-lr * d).astype(jnp.result_type(orig))

        return jax.tree.map(leaf, m, v, g, grads), (m, v)
