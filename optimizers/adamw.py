"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, ICLR 2019), from scratch in JAX."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optimizers._base import GradientTransformation, ScalarOrSchedule, learning_rate_at, scale_and_cast
from optimizers.moments import MomentsState, _init, adam_direction, adam_moments


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
        _, t, mu, nu = adam_moments(grads, state, b1, b2)

        def direction(m, v, p):
            dt = m.dtype
            return adam_direction(m, v, t, b1, b2, eps) + jnp.asarray(weight_decay, dt) * jnp.asarray(p).astype(dt)

        lr = learning_rate_at(learning_rate, state.count)
        updates = scale_and_cast(jax.tree.map(direction, mu, nu, params), grads, lr)
        return updates, MomentsState(count=t, mu=mu, nu=nu)

    return GradientTransformation(_init, update_fn)

