"""AMSGrad (Reddi, Kale & Kumar, ICLR 2018) in the PyTorch/Keras form, from scratch in JAX."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optimizers._base import GradientTransformation, ScalarOrSchedule, learning_rate_at, scale_and_cast, zeros_like_compute
from optimizers.moments import adam_direction, adam_moments


class AmsgradState(NamedTuple):
    count: jax.Array  # number of updates made so far
    mu: object  # first moment m
    nu: object  # second moment v
    nu_max: object  # running maximum of the raw v


def _init(params):
    return AmsgradState(count=jnp.zeros([], jnp.int32), mu=zeros_like_compute(params), nu=zeros_like_compute(params),
                        nu_max=zeros_like_compute(params))


def amsgrad(
    learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    r"""AMSGrad as ``torch.optim.Adam(amsgrad=True)`` and Keras compute it.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        v^{max}_t = \max(v^{max}_{t-1}, v_t)

        p_{t+1} = p_t - \eta_t\, \frac{m_t/(1-\beta_1^t)}{\sqrt{v^{max}_t/(1-\beta_2^t)} + \epsilon}

    The maximum is of the raw :math:`v_t` and the bias correction is applied afterwards (optax's
    ``amsgrad`` takes the maximum of the bias-corrected :math:`\hat v_t` instead, optax #1389).
    Reddi et al.'s Algorithm 2 has neither bias correction nor :math:`\epsilon`.
    """

    def update_fn(grads, state, params=None):
        del params
        _, t, mu, nu = adam_moments(grads, state, b1, b2)
        nu_max = jax.tree.map(jnp.maximum, state.nu_max, nu)
        direction = jax.tree.map(lambda m, v: adam_direction(m, v, t, b1, b2, eps), mu, nu_max)
        lr = learning_rate_at(learning_rate, state.count)
        return scale_and_cast(direction, grads, lr), AmsgradState(count=t, mu=mu, nu=nu, nu_max=nu_max)

    return GradientTransformation(_init, update_fn)
