"""Adadelta (Zeiler 2012), from scratch: the paper's Algorithm 1 with the update scaled by lr."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optimizers._base import (
    GradientTransformation,
    ScalarOrSchedule,
    as_compute,
    increment,
    learning_rate_at,
    scale_and_cast,
    zeros_like_compute,
)


class AdadeltaState(NamedTuple):
    count: jax.Array  # number of updates made so far (the schedule's argument)
    e_g: object  # E[g^2]: moving average of the squared gradients
    e_x: object  # E[Δx^2]: moving average of the squared (unscaled) updates


def adadelta(learning_rate: ScalarOrSchedule, rho: float = 0.9, eps: float = 1e-6) -> GradientTransformation:
    r"""Adadelta, Algorithm 1 of Zeiler, "ADADELTA: an adaptive learning rate method" (arXiv 1212.5701).

    .. math::
        E[g^2]_t = \rho E[g^2]_{t-1} + (1-\rho) g_t^2, \quad
        d_t = \frac{\sqrt{E[\Delta x^2]_{t-1} + \epsilon}}{\sqrt{E[g^2]_t + \epsilon}}\, g_t

        E[\Delta x^2]_t = \rho E[\Delta x^2]_{t-1} + (1-\rho) d_t^2, \quad p_{t+1} = p_t - \eta_t d_t

    with both averages starting at 0. The paper has no learning rate (:math:`\eta = 1`); as in
    optax, PyTorch and Keras, :math:`\eta_t` multiplies the update *after* the unscaled
    :math:`d_t` has been accumulated, so a learning rate or schedule never enters the averages.
    Computed as :math:`r_t = (E[\Delta x^2]_{t-1} + \epsilon)/(E[g^2]_t + \epsilon)`,
    :math:`d_t = \sqrt{r_t}\, g_t`, :math:`d_t^2 = r_t g_t^2` (one square root per element).
    """

    def init_fn(params):
        return AdadeltaState(count=jnp.zeros([], jnp.int32), e_g=zeros_like_compute(params),
                             e_x=zeros_like_compute(params))

    def update_fn(grads, state, params=None):
        del params
        g = as_compute(grads)
        e_g = jax.tree.map(
            lambda v, gi: jnp.asarray(rho, v.dtype) * v + jnp.asarray(1 - rho, v.dtype) * (gi * gi), state.e_g, g
        )
        # r = (E[Δx^2]_{t-1} + eps)/(E[g^2]_t + eps), so d = sqrt(r) g and d^2 = r g^2: the accumulator
        # needs no square root, and XLA keeps one intermediate array (r) instead of two (both roots;
        # 14 memory passes per step instead of optax's 17 on CPU)
        ratio = jax.tree.map(
            lambda v, x: (x + jnp.asarray(eps, x.dtype)) / (v + jnp.asarray(eps, v.dtype)), e_g, state.e_x
        )
        d = jax.tree.map(lambda r, gi: jnp.sqrt(r) * gi, ratio, g)
        e_x = jax.tree.map(
            lambda x, r, gi: jnp.asarray(rho, x.dtype) * x + jnp.asarray(1 - rho, x.dtype) * (r * (gi * gi)),
            state.e_x, ratio, g,
        )
        lr = learning_rate_at(learning_rate, state.count)
        return scale_and_cast(d, grads, lr), AdadeltaState(count=increment(state.count), e_g=e_g, e_x=e_x)

    return GradientTransformation(init_fn, update_fn)
