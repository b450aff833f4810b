"""LAMB: Adam's direction scaled per leaf by a trust ratio (You et al., ICLR 2020)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optimizers._base import (
    GradientTransformation,
    ScalarOrSchedule,
    as_compute,
    bias_correction_factor,
    compute_dtype,
    increment,
    learning_rate_at,
    scale_and_cast,
    zeros_like_compute,
)


class LambState(NamedTuple):
    count: jax.Array  # number of updates made so far; the bias corrections use count + 1
    mu: object  # first moment m
    nu: object  # second moment v


def lamb(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-6,
    weight_decay: float = 0.0,
) -> GradientTransformation:
    r"""LAMB, Algorithm 2 of You et al., "Large batch optimization for deep learning: training BERT
    in 76 minutes" (ICLR 2020), with the scaling function phi the identity.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2

        r_t = \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon} + \lambda p_t, \quad
        p_{t+1} = p_t - \eta_t \frac{\|p_t\|}{\|r_t\|} r_t

    for every leaf of the tree separately (a leaf is a layer), with the ratio 1 where
    :math:`\|p_t\| = 0` or :math:`\|r_t\| = 0` (so zero-initialised leaves move). The weight decay
    is inside the norm of the ratio, as in the paper. ``update`` needs ``params``.
    """

    def init_fn(params):
        return LambState(count=jnp.zeros([], jnp.int32), mu=zeros_like_compute(params), nu=zeros_like_compute(params))

    def update_fn(grads, state, params=None):
        if params is None:
            raise ValueError("lamb needs the parameters: call update(grads, state, params)")
        g = as_compute(grads)
        t = increment(state.count)
        mu = jax.tree.map(lambda m, gi: jnp.asarray(b1, m.dtype) * m + jnp.asarray(1 - b1, m.dtype) * gi, state.mu, g)
        nu = jax.tree.map(lambda v, gi: jnp.asarray(b2, v.dtype) * v + jnp.asarray(1 - b2, v.dtype) * gi * gi,
                          state.nu, g)

        def scaled(m, v, p):
            dt = m.dtype
            w = jnp.asarray(p).astype(compute_dtype(p)).astype(dt)
            m_hat = m / bias_correction_factor(b1, t, dt)
            v_hat = v / bias_correction_factor(b2, t, dt)
            r = m_hat / (jnp.sqrt(v_hat) + jnp.asarray(eps, dt)) + jnp.asarray(weight_decay, dt) * w
            w_norm = jnp.sqrt(jnp.sum(w * w))
            r_norm = jnp.sqrt(jnp.sum(r * r))
            usable = (w_norm > 0) & (r_norm > 0)
            ratio = jnp.where(usable, w_norm / jnp.where(usable, r_norm, 1), jnp.ones([], dt))
            return ratio * r

        lr = learning_rate_at(learning_rate, state.count)
        updates = scale_and_cast(jax.tree.map(scaled, mu, nu, params), grads, lr)
        return updates, LambState(count=t, mu=mu, nu=nu)

    return GradientTransformation(init_fn, update_fn)
