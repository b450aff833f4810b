"""Correct candidates for the "nadam" spec (optax.nadam: constant b1, m_hat = b1*m/(1-b1^(t+1)) + (1-b1)*g/(1-b1^t))."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import optax

from tests.candidates._mixed_precision import float32_compute


def nadam_dict(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """NAdam with a dict state {"step", "m", "v"} and the spec's formula written out per leaf."""

    def init(params):
        def zeros(p):
            return jnp.zeros_like(p, dtype=jnp.promote_types(jnp.result_type(p), jnp.float32))

        return {"step": jnp.zeros([], jnp.int32), "m": jax.tree.map(zeros, params), "v": jax.tree.map(zeros, params)}

    def update(grads, state, params=None):
        del params
        t = state["step"] + 1
        lr = learning_rate(state["step"]) if callable(learning_rate) else learning_rate
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["m"])
        m = jax.tree.map(lambda m, x: jnp.asarray(b1, m.dtype) * m + jnp.asarray(1 - b1, m.dtype) * x, state["m"], g)
        v = jax.tree.map(
            lambda v, x: jnp.asarray(b2, v.dtype) * v + jnp.asarray(1 - b2, v.dtype) * x * x, state["v"], g
        )

        def leaf(m, v, x, orig):
            dt = m.dtype
            beta1, beta2, tt = jnp.asarray(b1, dt), jnp.asarray(b2, dt), t.astype(dt)
            m_hat = beta1 * m / (1 - beta1 ** (tt + 1)) + (1 - beta1) * x / (1 - beta1**tt)
            v_hat = v / (1 - beta2**tt)
            u = -jnp.asarray(lr, dt) * m_hat / (jnp.sqrt(v_hat) + jnp.asarray(eps, dt))
            return u.astype(jnp.result_type(orig))

        return jax.tree.map(leaf, m, v, g, grads), {"step": t, "m": m, "v": v}

    return SimpleNamespace(init=init, update=update)


def nadam_optax_chain(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """optax.chain(scale_by_adam(nesterov=True), scale_by_learning_rate), float32 statistics."""
    return float32_compute(
        optax.chain(
            optax.scale_by_adam(b1=b1, b2=b2, eps=eps, nesterov=True),
            optax.scale_by_learning_rate(learning_rate),
        )
    )
