"""Muon: momentum orthogonalised by a quintic Newton-Schulz iteration (2-D leaves), NAdam elsewhere."""

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
)

NS_COEFFS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5
_HIGHEST = jax.lax.Precision.HIGHEST  # full float32 products on GPU/TPU too (no TF32/bf16 passes)


class MuonState(NamedTuple):
    count: jax.Array  # number of updates made so far
    mu: object  # first moment of every leaf
    nu: object  # second moment of the leaves that are not 2-D; a 0-d placeholder for the matrices


def _is_matrix(x) -> bool:
    return jnp.ndim(x) == 2


def _orthogonalize(x: jax.Array, eps) -> jax.Array:
    """X/(||X||_F + eps), then five quintic steps X <- a X + (b A + c A A) X, A = X X^T (wide orientation)."""
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    dt = x.dtype
    x = x / (jnp.sqrt(jnp.sum(x * x)) + jnp.asarray(eps, dt))
    a, b, c = (jnp.asarray(k, dt) for k in NS_COEFFS)
    for _ in range(NS_STEPS):
        gram = jnp.matmul(x, x.T, precision=_HIGHEST)
        poly = b * gram + c * jnp.matmul(gram, gram, precision=_HIGHEST)
        x = a * x + jnp.matmul(poly, x, precision=_HIGHEST)
    return x.T if tall else x


def _shape_scale(shape) -> float:
    fan_in, fan_out = shape  # JAX's (in, out) kernel: x @ W
    return max(1.0, fan_out / fan_in) ** 0.5 if fan_in else 1.0


def muon(
    learning_rate: ScalarOrSchedule,
    beta: float = 0.95,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    adam_b1: float = 0.9,
    adam_b2: float = 0.999,
) -> GradientTransformation:
    r"""Muon (Jordan 2024, "Muon: an optimizer for hidden layers in neural networks"), in optax.contrib.muon's form.

    For a 2-D leaf (JAX's (in, out) kernel):

    .. math::
        m_t = \beta m_{t-1} + (1-\beta) g_t, \quad
        \hat\mu_t = \frac{\beta m_t}{1-\beta^{t+1}} + \frac{(1-\beta) g_t}{1-\beta^t}

        O_t = \mathrm{NS}_5\!\left(\hat\mu_t / (\|\hat\mu_t\|_F + \epsilon)\right), \quad
        p_{t+1} = p_t - \eta_t \left(\sqrt{\max(1, n_{out}/n_{in})}\, O_t + \lambda p_t\right)

    NS_5 is five steps of X <- aX + (b XX^T + c (XX^T)^2) X with (a, b, c) = (3.4445, -4.7750, 2.0315),
    run on the wide orientation (the polynomial commutes with transposition), with full-precision
    matrix products. Every other leaf gets NAdam (Dozat 2016, constant b1; optax's
    ``adamw(nesterov=True)`` without decay) with b1 = adam_b1, b2 = adam_b2 and the same eps.
    """

    def init_fn(params):
        mu = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=compute_dtype(p)), params)
        nu = jax.tree.map(lambda p: jnp.zeros([], compute_dtype(p)) if _is_matrix(p)
                          else jnp.zeros_like(p, dtype=compute_dtype(p)), params)
        return MuonState(count=jnp.zeros([], jnp.int32), mu=mu, nu=nu)

    def update_fn(grads, state, params=None):
        g = as_compute(grads)
        t = increment(state.count)
        lr = learning_rate_at(learning_rate, state.count)
        if params is None and not (isinstance(weight_decay, (int, float)) and weight_decay == 0):
            raise ValueError("muon with weight_decay needs params")
        p_tree = params if params is not None else jax.tree.map(lambda _: None, grads)

        def leaf(gi, m, v, p, orig):
            dt = m.dtype
            if _is_matrix(gi):
                bt = jnp.asarray(beta, dt)
                m = bt * m + (1 - bt) * gi
                mu_hat = bt * m / bias_correction_factor(beta, t + 1, dt) + (1 - bt) * gi / bias_correction_factor(
                    beta, t, dt)
                direction = jnp.asarray(_shape_scale(gi.shape), dt) * _orthogonalize(mu_hat, eps)
                if p is not None:
                    direction = direction + jnp.asarray(weight_decay, dt) * jnp.asarray(p).astype(dt)
            else:
                b1 = jnp.asarray(adam_b1, dt)
                m = b1 * m + (1 - b1) * gi
                v = jnp.asarray(adam_b2, dt) * v + (1 - jnp.asarray(adam_b2, dt)) * gi * gi
                m_hat = b1 * m / bias_correction_factor(adam_b1, t + 1, dt) + (1 - b1) * gi / bias_correction_factor(
                    adam_b1, t, dt)
                v_hat = v / bias_correction_factor(adam_b2, t, dt)
                direction = m_hat / (jnp.sqrt(v_hat) + jnp.asarray(eps, dt))
            u = -jnp.asarray(lr, dt) * direction
            return u.astype(jnp.result_type(orig)), m, v

        treedef = jax.tree.structure(grads)
        flat = [leaf(*args) for args in zip(treedef.flatten_up_to(g), treedef.flatten_up_to(state.mu),
                                            treedef.flatten_up_to(state.nu),
                                            treedef.flatten_up_to(p_tree) if params is not None
                                            else [None] * treedef.num_leaves,
                                            treedef.flatten_up_to(grads))]
        updates = treedef.unflatten([f[0] for f in flat])
        mu = treedef.unflatten([f[1] for f in flat])
        nu = treedef.unflatten([f[2] for f in flat])
        return updates, MuonState(count=t, mu=mu, nu=nu)

    return GradientTransformation(init_fn, update_fn)
