"""Adafactor (Shazeer & Stern, ICML 2018): factored second moments, update clipping, relative step."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optimizers._base import GradientTransformation, ScalarOrSchedule, compute_dtype, increment, learning_rate_at

EPS2 = 1e-3  # the paper's epsilon_2: the parameter scale is max(EPS2, RMS(p))


class AdafactorState(NamedTuple):
    count: jax.Array  # number of updates made so far
    v_row: object  # per leaf: R (the row statistics) of a factored leaf, an empty array otherwise
    v_col: object  # per leaf: C of a factored leaf, an empty array otherwise
    v: object  # per leaf: the unfactored second moment, an empty array for a factored leaf
    mu: object  # per leaf: the momentum of the update (an empty array when momentum is the Python 0)


def _is_zero(x) -> bool:
    return isinstance(x, (int, float)) and x == 0


def _two_largest(shape):
    """(second-largest axis, largest axis) of a shape of rank >= 2 (ties: the later axis is larger)."""
    order = np.argsort(shape, kind="stable")
    return int(order[-2]), int(order[-1])


def _factored_dims(shape, min_dim_size_to_factor):
    """``_two_largest(shape)`` for a rank >= 2 leaf whose second-largest size is at least
    ``min_dim_size_to_factor``; None otherwise. Used by ``init`` only, which needs a concrete threshold
    (the state's shapes depend on it); ``update`` reads the decision back from the state's shapes, so
    it runs with the threshold traced (optax.inject_hyperparams, jit)."""
    if len(shape) < 2:
        return None
    d1, _ = _two_largest(shape)
    if shape[d1] < float(np.asarray(min_dim_size_to_factor)):
        return None
    return _two_largest(shape)


def _empty(p):
    return jnp.zeros((0,), compute_dtype(p))


def _mean_sq(x):
    return jnp.mean(x * x)


def adafactor(
    learning_rate: ScalarOrSchedule,
    min_dim_size_to_factor: float = 1.0,
    decay_rate: float = 0.8,
    clipping_threshold: float = 1.0,
    eps: float = 1e-30,
    momentum: float = 0.0,
    weight_decay_rate: float = 0.0,
) -> GradientTransformation:
    r"""Adafactor, Algorithms 4 and 5 of Shazeer & Stern, "Adafactor: adaptive learning rates with
    sublinear memory cost" (ICML 2018), with the relative step of section 8.

    .. math::
        \hat\beta_{2t} = 1 - t^{-c}, \quad
        R_t = \hat\beta_{2t} R_{t-1} + (1-\hat\beta_{2t})\,\mathrm{mean}_{cols}(G_t^2 + \epsilon_1), \quad
        C_t = \hat\beta_{2t} C_{t-1} + (1-\hat\beta_{2t})\,\mathrm{mean}_{rows}(G_t^2 + \epsilon_1)

        \hat V_t = R_t C_t / \mathrm{mean}(R_t) \;(\text{rank} \ge 2), \quad
        \hat V_t = \hat\beta_{2t} \hat V_{t-1} + (1-\hat\beta_{2t})(G_t^2 + \epsilon_1) \;(\text{otherwise})

        U_t = G_t / \sqrt{\hat V_t}, \quad \hat U_t = U_t / \max(1, \mathrm{RMS}(U_t)/d), \quad
        X_t = X_{t-1} - \eta_t \max(\epsilon_2, \mathrm{RMS}(X_{t-1}))\, \hat U_t

    with :math:`\eta_t` the learning rate (the paper's relative step :math:`\rho_t` is a schedule:
    ``lambda count: min(1e-2, 1/sqrt(count + 1))``), :math:`\epsilon_2 = 10^{-3}`, and a leaf
    factored over its two largest axes when its second-largest size is at least
    ``min_dim_size_to_factor`` (1: every matrix, as the paper; optax's default is 128). Optional:
    ``momentum`` (an EMA without debiasing of the scaled, clipped step) and ``weight_decay_rate``
    (adds ``-weight_decay_rate * p``, not multiplied by the learning rate), as optax.adafactor.

    The update needs the parameters (``update(grads, state, params)``). Statistics are kept in the
    compute dtype (float32 for narrower leaves); V_hat is formed as (R / mean(R)) C so that an
    all-zero gradient (R = C = eps) does not underflow in float32.
    """
    use_momentum = not _is_zero(momentum)
    use_decay = not _is_zero(weight_decay_rate)

    def init_fn(params):
        def rows(p):
            dims = _factored_dims(p.shape, min_dim_size_to_factor)
            return _empty(p) if dims is None else jnp.zeros(np.delete(p.shape, dims[1]), compute_dtype(p))

        def cols(p):
            dims = _factored_dims(p.shape, min_dim_size_to_factor)
            return _empty(p) if dims is None else jnp.zeros(np.delete(p.shape, dims[0]), compute_dtype(p))

        def full(p):
            dims = _factored_dims(p.shape, min_dim_size_to_factor)
            return jnp.zeros_like(p, dtype=compute_dtype(p)) if dims is None else _empty(p)

        def mom(p):
            return jnp.zeros_like(p, dtype=compute_dtype(p)) if use_momentum else _empty(p)

        return AdafactorState(
            count=jnp.zeros([], jnp.int32), v_row=jax.tree.map(rows, params), v_col=jax.tree.map(cols, params),
            v=jax.tree.map(full, params), mu=jax.tree.map(mom, params),
        )

    def update_fn(grads, state, params=None):
        if params is None:
            raise ValueError("adafactor scales each step by RMS(params): call update(grads, state, params)")
        t = increment(state.count)
        lr = learning_rate_at(learning_rate, state.count)
        g_leaves, treedef = jax.tree.flatten(grads)
        leaves = [treedef.flatten_up_to(x) for x in (state.v_row, state.v_col, state.v, state.mu, params)]
        out = [_leaf(*args, t, lr) for args in zip(g_leaves, *leaves)]
        unpack = lambda i: treedef.unflatten([o[i] for o in out])  # noqa: E731
        return unpack(0), AdafactorState(count=t, v_row=unpack(1), v_col=unpack(2), v=unpack(3), mu=unpack(4))

    def _leaf(grad, r, c, v, m, p, t, lr):
        dt = compute_dtype(grad)
        g = jnp.asarray(grad).astype(dt)
        beta = 1 - t.astype(dt) ** jnp.asarray(-decay_rate, dt)
        one_minus_beta = 1 - beta
        sq = g * g + jnp.asarray(eps, dt)
        if v.shape != g.shape:  # factored in init: v is the empty placeholder
            d1, d0 = _two_largest(g.shape)
            r = beta * r + one_minus_beta * jnp.mean(sq, axis=d0)
            c = beta * c + one_minus_beta * jnp.mean(sq, axis=d1)
            r_axis = d1 if d1 < d0 else d1 - 1
            row_factor = jax.lax.rsqrt(r / jnp.mean(r, axis=r_axis, keepdims=True))
            u = g * jnp.expand_dims(row_factor, d0) * jnp.expand_dims(jax.lax.rsqrt(c), d1)
        else:
            v = beta * v + one_minus_beta * sq
            u = g * jax.lax.rsqrt(v)
        u = u / jnp.maximum(1, jnp.sqrt(_mean_sq(u)) / jnp.asarray(clipping_threshold, dt))
        p_c = jnp.asarray(p).astype(dt)
        scale = jnp.maximum(jnp.asarray(EPS2, dt), jnp.sqrt(_mean_sq(p_c)))
        step = jnp.asarray(lr, dt) * scale * u
        if use_momentum:
            mu = jnp.asarray(momentum, dt)
            m = mu * m + (1 - mu) * step
            step = m
        if use_decay:
            step = step + jnp.asarray(weight_decay_rate, dt) * p_c
        return (-step).astype(jnp.result_type(grad)), r, c, v, m

    return GradientTransformation(init_fn, update_fn)
