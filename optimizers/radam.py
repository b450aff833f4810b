"""RAdam, the rectified Adam of Liu et al. (ICLR 2020), written from scratch in JAX."""

from __future__ import annotations

from typing import NamedTuple

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
    zeros_like_compute,
)


class RadamState(NamedTuple):
    count: jax.Array  # number of updates made so far
    mu: object  # first moment m
    nu: object  # second moment v
    weight: jax.Array  # S_t = sum_{j<=t} b2^(j-1) = b2 S_{t-1} + 1 (scalar)
    moment: jax.Array  # D_t = sum_{j<=t} j b2^(j-1) = b2 D_{t-1} + S_t (scalar)


def _scalar_dtype():
    return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


def radam(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    threshold: float = 5.0,
) -> GradientTransformation:
    r"""RAdam, Algorithm 2 of Liu et al., "On the variance of the adaptive learning rate and beyond" (ICLR 2020).

    .. math::
        m_t, v_t, \hat m_t, \hat v_t \text{ as in Adam}, \quad
        \rho_\infty = \frac{2}{1-\beta_2} - 1, \quad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}

        p_{t+1} = p_t - \eta_t \hat m_t \quad (\rho_t < \text{threshold}), \qquad
        p_{t+1} = p_t - \eta_t\, r_t \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}, \quad
        r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}
        \quad \text{otherwise.}

    eps is added to the bias-corrected :math:`\sqrt{\hat v_t}` (as optax; PyTorch adds it to the raw
    :math:`\sqrt{v_t}`), and the default threshold is 5, as optax and the authors' code (the paper
    writes :math:`\rho_t > 4`: ``threshold=4.0``).

    :math:`\rho_t` is not evaluated by the closed form above, which subtracts two numbers of size
    :math:`2/(1-\beta_2)` and in float32 is about 1 % off at :math:`t = 6`, :math:`\beta_2 = 0.999`.
    It is the paper's definition, :math:`\rho_t = 2 D_t / S_t - 1` with the running sums
    :math:`S_t = \sum_{j \le t} \beta_2^{j-1}` and :math:`D_t = \sum_{j \le t} j \beta_2^{j-1}`
    (twice the centre of mass of the EMA's weights, minus one), kept as two scalars in the state:
    sums of positive terms, accurate to a few ulp.
    """

    def init_fn(params):
        return RadamState(
            count=jnp.zeros([], jnp.int32), mu=zeros_like_compute(params), nu=zeros_like_compute(params),
            weight=jnp.zeros([], _scalar_dtype()), moment=jnp.zeros([], _scalar_dtype()),  # two buffers (donation)
        )

    def update_fn(grads, state, params=None):
        del params
        g = as_compute(grads)
        t = increment(state.count)
        mu = jax.tree.map(lambda m, gi: jnp.asarray(b1, m.dtype) * m + jnp.asarray(1 - b1, m.dtype) * gi, state.mu, g)
        nu = jax.tree.map(lambda v, gi: jnp.asarray(b2, v.dtype) * v + jnp.asarray(1 - b2, v.dtype) * gi * gi,
                          state.nu, g)

        sd = state.weight.dtype
        beta2 = jnp.asarray(b2, sd)
        weight = beta2 * state.weight + 1
        moment = beta2 * state.moment + weight
        rho = 2 * moment / weight - 1
        rho_inf = 2 / (1 - beta2) - 1
        rectify = rho >= jnp.asarray(threshold, sd)
        ratio = (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)
        r = jnp.sqrt(jnp.where(rectify, ratio, 1.0))  # the other branch may be negative: never its sqrt

        def direction(m, v):
            dt = m.dtype
            m_hat = m / bias_correction_factor(b1, t, dt)
            v_hat = v / bias_correction_factor(b2, t, dt)
            adapted = r.astype(dt) * m_hat / (jnp.sqrt(v_hat) + jnp.asarray(eps, dt))
            return jnp.where(rectify, adapted, m_hat)

        lr = learning_rate_at(learning_rate, state.count)
        updates = scale_and_cast(jax.tree.map(direction, mu, nu), grads, lr)
        return updates, RadamState(count=t, mu=mu, nu=nu, weight=weight, moment=moment)

    return GradientTransformation(init_fn, update_fn)
