"""Correct candidates for the "adam" spec (Kingma & Ba Algorithm 1, m_hat/(sqrt(v_hat) + eps))."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from tests.candidates._mixed_precision import float32_compute


def _compute_dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


class _Transform(NamedTuple):
    init: object
    update: object


def adam_optax_chain(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """optax.chain(scale_by_adam, scale_by_learning_rate), float32 statistics for low-precision leaves."""
    return float32_compute(
        optax.chain(optax.scale_by_adam(b1=b1, b2=b2, eps=eps), optax.scale_by_learning_rate(learning_rate))
    )


def _ema(beta, old, new):
    return jnp.asarray(beta, old.dtype) * old + jnp.asarray(1 - beta, old.dtype) * new


def _zeros(params, dtype_fn=_compute_dtype):
    return jax.tree.map(lambda p: jnp.zeros_like(p, dtype=dtype_fn(p)), params)


def adam_folded_step(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """Adam with the bias corrections folded into alpha_t = lr*sqrt(1-b2^t)/(1-b1^t) and eps_hat = eps*sqrt(1-b2^t)."""

    def init(params):
        return {"count": jnp.zeros([], jnp.int32), "m": _zeros(params), "v": _zeros(params)}

    def update(grads, state, params=None):
        del params
        t = state["count"] + 1
        lr = _lr_at(learning_rate, state["count"])
        m = jax.tree.map(lambda m, g: _ema(b1, m, jnp.asarray(g).astype(m.dtype)), state["m"], grads)
        v = jax.tree.map(lambda v, g: _ema(b2, v, jnp.square(jnp.asarray(g).astype(v.dtype))), state["v"], grads)

        def step(m, v, g):
            tt = t.astype(m.dtype)
            sqrt_bc2 = jnp.sqrt(1 - jnp.asarray(b2, m.dtype) ** tt)
            alpha = jnp.asarray(lr, m.dtype) * sqrt_bc2 / (1 - jnp.asarray(b1, m.dtype) ** tt)
            eps_hat = jnp.asarray(eps, m.dtype) * sqrt_bc2
            return (-alpha * m / (jnp.sqrt(v) + eps_hat)).astype(jnp.result_type(g))

        return jax.tree.map(step, m, v, grads), {"count": t, "m": m, "v": v}

    return _Transform(init, update)


class FloatCounterState(NamedTuple):
    step: jax.Array  # float32 number of updates made so far
    m: object
    v: object


def adam_float_counter(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """Adam that keeps its step counter as a float32 scalar (bias corrections use it directly)."""

    def init(params):
        return FloatCounterState(jnp.zeros([], jnp.float32), _zeros(params), _zeros(params))

    def update(grads, state, params=None):
        del params
        step = state.step + 1.0
        lr = _lr_at(learning_rate, state.step.astype(jnp.int32))
        m = jax.tree.map(lambda m, g: _ema(b1, m, jnp.asarray(g).astype(m.dtype)), state.m, grads)
        v = jax.tree.map(lambda v, g: _ema(b2, v, jnp.asarray(g).astype(v.dtype) ** 2), state.v, grads)

        def leaf(m, v, g):
            bc1 = 1.0 - jnp.power(jnp.asarray(b1, m.dtype), step.astype(m.dtype))
            bc2 = 1.0 - jnp.power(jnp.asarray(b2, v.dtype), step.astype(v.dtype))
            d = (m / bc1) / (jnp.sqrt(v / bc2) + jnp.asarray(eps, v.dtype))
            return (-jnp.asarray(lr, m.dtype) * d).astype(jnp.result_type(g))

        return jax.tree.map(leaf, m, v, grads), FloatCounterState(step, m, v)

    return _Transform(init, update)


def adam_x64(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """Adam that keeps its moments and does all arithmetic in float64 whenever jax_enable_x64 is on."""

    def dtype_for(p):
        return jnp.float64 if jax.config.jax_enable_x64 else _compute_dtype(p)

    def init(params):
        z = _zeros(params, dtype_fn=dtype_for)
        return {"count": jnp.zeros([], jnp.int32), "m": z, "v": z}

    def update(grads, state, params=None):
        del params
        t = state["count"] + 1
        lr = _lr_at(learning_rate, state["count"])

        def leaf(m, v, g):
            dt = m.dtype
            gw = jnp.asarray(g).astype(dt)
            m = jnp.asarray(b1, dt) * m + jnp.asarray(1 - b1, dt) * gw
            v = jnp.asarray(b2, dt) * v + jnp.asarray(1 - b2, dt) * gw * gw
            m_hat = m / (1 - jnp.asarray(b1, dt) ** t.astype(dt))
            v_hat = v / (1 - jnp.asarray(b2, dt) ** t.astype(dt))
            u = -jnp.asarray(lr, dt) * m_hat / (jnp.sqrt(v_hat) + jnp.asarray(eps, dt))
            return u.astype(jnp.result_type(g)), m, v

        treedef = jax.tree.structure(grads)
        out = treedef.flatten_up_to(jax.tree.map(leaf, state["m"], state["v"], grads))
        updates = treedef.unflatten([o[0] for o in out])
        m = treedef.unflatten([o[1] for o in out])
        v = treedef.unflatten([o[2] for o in out])
        return updates, {"count": t, "m": m, "v": v}

    return _Transform(init, update)
