"""First/second-moment methods: Adam, AdaMax, NAdam, AdaBelief."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optimizers._base import (
    GradientTransformation,
    abs_sq as _abs_sq,
    ScalarOrSchedule,
    as_compute,
    bias_correction_factor,
    increment,
    learning_rate_at,
    scale_and_cast,
    zeros_like_compute,
)


class MomentsState(NamedTuple):
    count: jax.Array  # number of updates made so far; the bias corrections use count + 1
    mu: object  # first moment m
    nu: object  # second moment v (Adam, NAdam), infinity norm u (AdaMax), belief s (AdaBelief)


def _ema(beta, old, new):
    """beta * old + (1 - beta) * new, in old's dtype."""
    return jnp.asarray(beta, old.dtype) * old + jnp.asarray(1 - beta, old.dtype) * new


def _ema_plus(beta, old, new, const):
    """beta * old + ((1 - beta) * new + const), in old's dtype."""
    return jnp.asarray(beta, old.dtype) * old + (jnp.asarray(1 - beta, old.dtype) * new + jnp.asarray(const, old.dtype))


def _init(params):
    return MomentsState(
        count=jnp.zeros([], jnp.int32), mu=zeros_like_compute(params), nu=zeros_like_compute(params)
    )


def adam_moments(grads, state, b1: float, b2: float):
    """The gradients in their compute dtype, the 1-based step and Adam's two EMAs (of g and |g|^2)."""
    g = as_compute(grads)
    t = increment(state.count)
    mu = jax.tree.map(lambda m, gi: _ema(b1, m, gi), state.mu, g)
    nu = jax.tree.map(lambda v, gi: _ema(b2, v, _abs_sq(gi)), state.nu, g)
    return g, t, mu, nu


def adam_direction(m, v, t, b1: float, b2: float, eps: float):
    """m_hat / (sqrt(v / (1 - b2^t)) + eps) for one leaf (m, v in their compute dtype, t 1-based)."""
    m_hat = m / bias_correction_factor(b1, t, m.dtype)
    v_hat = v / bias_correction_factor(b2, t, v.dtype)
    return m_hat / (jnp.sqrt(v_hat) + jnp.asarray(eps, v.dtype))


def adam(
    learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    r"""Adam, Algorithm 1 of Kingma & Ba, "Adam: A method for stochastic optimization" (ICLR 2015).

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2

        \hat m_t = m_t / (1-\beta_1^t), \quad \hat v_t = v_t / (1-\beta_2^t), \quad
        p_{t+1} = p_t - \eta_t\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    eps is outside the square root and applied to the bias-corrected v (as optax and PyTorch;
    not TensorFlow's "eps-hat" form).
    """

    def update_fn(grads, state, params=None):
        del params
        _, t, mu, nu = adam_moments(grads, state, b1, b2)
        direction = jax.tree.map(lambda m, v: adam_direction(m, v, t, b1, b2, eps), mu, nu)
        lr = learning_rate_at(learning_rate, state.count)
        return scale_and_cast(direction, grads, lr), MomentsState(count=t, mu=mu, nu=nu)

    return GradientTransformation(_init, update_fn)


def adamax(
    learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    r"""AdaMax, Section 7.1 of Kingma & Ba (ICLR 2015), with eps inside the max as optax does.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon)

        p_{t+1} = p_t - \eta_t\, \frac{m_t / (1-\beta_1^t)}{u_t}
    """

    def update_fn(grads, state, params=None):
        del params
        g = as_compute(grads)
        t = increment(state.count)
        mu = jax.tree.map(lambda m, gi: _ema(b1, m, gi), state.mu, g)
        nu = jax.tree.map(
            lambda u, gi: jnp.maximum(jnp.asarray(b2, u.dtype) * u, jnp.abs(gi) + jnp.asarray(eps, u.dtype)),
            state.nu,
            g,
        )
        direction = jax.tree.map(lambda m, u: m / bias_correction_factor(b1, t, m.dtype) / u, mu, nu)
        lr = learning_rate_at(learning_rate, state.count)
        return scale_and_cast(direction, grads, lr), MomentsState(count=t, mu=mu, nu=nu)

    return GradientTransformation(_init, update_fn)


def nadam(
    learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    r"""NAdam with a constant :math:`\beta_1` (Dozat, "Incorporating Nesterov momentum into Adam", 2016).

    .. math::
        \hat m_t = \frac{\beta_1 m_t}{1-\beta_1^{t+1}} + \frac{(1-\beta_1) g_t}{1-\beta_1^t},
        \quad p_{t+1} = p_t - \eta_t\, \hat m_t / (\sqrt{v_t/(1-\beta_2^t)} + \epsilon)

    with m_t, v_t as in Adam. This is optax's ``nadam``; PyTorch's NAdam uses a momentum
    schedule :math:`\mu_t = \beta_1(1 - \tfrac12 0.96^{t\psi})` instead (see docs/conventions.md).
    """

    def update_fn(grads, state, params=None):
        del params
        g = as_compute(grads)
        t = increment(state.count)
        mu = jax.tree.map(lambda m, gi: _ema(b1, m, gi), state.mu, g)
        nu = jax.tree.map(lambda v, gi: _ema(b2, v, _abs_sq(gi)), state.nu, g)

        def direction(m, v, gi):
            dt = m.dtype
            m_hat = jnp.asarray(b1, dt) * m / bias_correction_factor(b1, t + 1, dt) + jnp.asarray(
                1 - b1, dt
            ) * gi / bias_correction_factor(b1, t, dt)
            v_hat = v / bias_correction_factor(b2, t, dt)
            return m_hat / (jnp.sqrt(v_hat) + jnp.asarray(eps, dt))

        lr = learning_rate_at(learning_rate, state.count)
        updates = scale_and_cast(jax.tree.map(direction, mu, nu, g), grads, lr)
        return updates, MomentsState(count=t, mu=mu, nu=nu)

    return GradientTransformation(_init, update_fn)


def adabelief(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-16,
    eps_root: float = 1e-16,
) -> GradientTransformation:
    r"""AdaBelief, Algorithm 2 of Zhuang et al., "AdaBelief optimizer" (NeurIPS 2020).

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \epsilon_{root}

        p_{t+1} = p_t - \eta_t\, \frac{m_t/(1-\beta_1^t)}{\sqrt{s_t/(1-\beta_2^t)} + \epsilon}

    eps_root is added into the stored s every step (as the paper and optax do).
    """

    def update_fn(grads, state, params=None):
        del params
        g = as_compute(grads)
        t = increment(state.count)
        mu = jax.tree.map(lambda m, gi: _ema(b1, m, gi), state.mu, g)
        # s_t = b2 s + ((1 - b2)(g - m)^2 + eps_root): the paper's sum, grouped so that XLA does not
        # fuse the s update a second time into the direction (reading the old s after the in-place
        # write, hence a copy of s each step: 14 memory passes instead of 11, as optax's adabelief).
        nu = jax.tree.map(
            lambda s, gi, m: _ema_plus(b2, s, _abs_sq(gi - m), eps_root),
            state.nu,
            g,
            mu,
        )

        def direction(m, s):
            m_hat = m / bias_correction_factor(b1, t, m.dtype)
            s_hat = s / bias_correction_factor(b2, t, s.dtype)
            return m_hat / (jnp.sqrt(s_hat) + jnp.asarray(eps, s.dtype))

        lr = learning_rate_at(learning_rate, state.count)
        updates = scale_and_cast(jax.tree.map(direction, mu, nu), grads, lr)
        return updates, MomentsState(count=t, mu=mu, nu=nu)

    return GradientTransformation(_init, update_fn)
