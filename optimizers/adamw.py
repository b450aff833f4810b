"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, ICLR 2019), from scratch in JAX."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optimizers._base import (
    GradientTransformation,
    ScalarOrSchedule,
    as_compute,
    bias_correction_factor,
    increment,
    learning_rate_at,
    scale_and_cast,
)
from optimizers.moments import MomentsState, _ema, _init


def adam_direction(m, v_hat_source, t, b1: float, b2: float, eps: float):
    """m_hat / (sqrt(v / (1 - b2^t)) + eps) for one leaf (m, v in their compute dtype, t 1-based)."""
    m_hat = m / bias_correction_factor(b1, t, m.dtype)
    v_hat = v_hat_source / bias_correction_factor(b2, t, v_hat_source.dtype)
    return m_hat / (jnp.sqrt(v_hat) + jnp.asarray(eps, v_hat_source.dtype))


def moments(grads, state, b1: float, b2: float):
    """The gradients in their compute dtype, the 1-based step and Adam's two EMAs."""
    g = as_compute(grads)
    t = increment(state.count)
    mu = jax.tree.map(lambda m, gi: _ema(b1, m, gi), state.mu, g)
    nu = jax.tree.map(lambda v, gi: _ema(b2, v, gi * gi), state.nu, g)
    return g, t, mu, nu


def adamw(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-4,
) -> GradientTransformation:
    r"""AdamW, Algorithm 2 of Loshchilov & Hutter, "Decoupled weight decay regularization" (ICLR 2019).

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2

        p_{t+1} = p_t - \eta_t \left( \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}
        + \lambda p_t \right)

    with :math:`\eta_t` the learning rate (the paper's :math:`\alpha \eta_t`) and :math:`\lambda` =
    ``weight_decay``, multiplied by the learning rate as in optax and PyTorch (the paper's own
    decay coefficient is :math:`\alpha \lambda`). ``update`` needs ``params``.
    """

    def update_fn(grads, state, params=None):
        if params is None:
            raise ValueError("adamw: update(grads, state, params) needs the parameters for the weight decay")
        _, t, mu, nu = moments(grads, state, b1, b2)

        def direction(m, v, p):
            dt = m.dtype
            return adam_direction(m, v, t, b1, b2, eps) + jnp.asarray(weight_decay, dt) * jnp.asarray(p).astype(dt)

        lr = learning_rate_at(learning_rate, state.count)
        updates = scale_and_cast(jax.tree.map(direction, mu, nu, params), grads, lr)
        return updates, MomentsState(count=t, mu=mu, nu=nu)

    return GradientTransformation(_init, update_fn)

