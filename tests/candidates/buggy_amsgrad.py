"""Buggy candidates for the "amsgrad" spec (m_hat/(sqrt(max v/(1 - b2^t)) + eps), torch/Keras form); one bug each."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def _zeros(params):
    return jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)


def _torch_max(vmax, v, v_prev, c2):
    return jnp.maximum(vmax, v)


def _torch_direction(m, vmax, c1, c2, eps):
    return (m / c1) / (jnp.sqrt(vmax / c2) + eps)


def _amsgrad(learning_rate, b1, b2, eps, *, new_max=_torch_max, direction=_torch_direction):
    """Correct skeleton unless ``new_max(vmax, v, v_prev, c2)`` or ``direction(m, vmax, c1, c2, eps)`` carries the bug."""

    def init(params):
        return {"count": jnp.zeros([], jnp.int32), "mu": _zeros(params), "nu": _zeros(params), "nu_max": _zeros(params)}

    def update(grads, state, params=None):
        del params
        t = state["count"] + 1
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["mu"])
        mu = jax.tree.map(lambda m, x: jnp.asarray(b1, m.dtype) * m + jnp.asarray(1 - b1, m.dtype) * x, state["mu"], g)
        nu = jax.tree.map(lambda v, x: jnp.asarray(b2, v.dtype) * v + jnp.asarray(1 - b2, v.dtype) * x * x, state["nu"], g)
        c2s = jax.tree.map(lambda v: 1 - jnp.asarray(b2, v.dtype) ** t.astype(v.dtype), nu)
        nu_max = jax.tree.map(new_max, state["nu_max"], nu, state["nu"], c2s)
        lr = _lr_at(learning_rate, state["count"])

        def leaf(m, vmax, orig):
            dt = m.dtype
            tt = t.astype(dt)
            c1, c2 = 1 - jnp.asarray(b1, dt) ** tt, 1 - jnp.asarray(b2, dt) ** tt
            return (-jnp.asarray(lr, dt) * direction(m, vmax, c1, c2, jnp.asarray(eps, dt))).astype(jnp.result_type(orig))

        return jax.tree.map(leaf, mu, nu_max, grads), {"count": t, "mu": mu, "nu": nu, "nu_max": nu_max}

    return SimpleNamespace(init=init, update=update)


def optax_form(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (amsgrad-max): max of the bias-corrected v_hat = v/(1 - b2^t), not of the raw v (optax.amsgrad's default, optax #1389)."""
    return _amsgrad(learning_rate, b1, b2, eps, new_max=lambda vmax, v, v_prev, c2: jnp.maximum(vmax, v / c2),
                    direction=lambda m, vmax, c1, c2, eps: (m / c1) / (jnp.sqrt(vmax) + eps))


def paper_no_bias_correction(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): Reddi et al.'s Algorithm 2 with eps: m/(sqrt(max v) + eps), no bias corrections."""
    return _amsgrad(learning_rate, b1, b2, eps, direction=lambda m, vmax, c1, c2, eps: m / (jnp.sqrt(vmax) + eps))


def max_not_corrected(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (bias-correction): m_hat/(sqrt(max v) + eps): the max of the raw v is never bias-corrected (optax bias_correction_nu=False)."""
    return _amsgrad(learning_rate, b1, b2, eps, direction=lambda m, vmax, c1, c2, eps: (m / c1) / (jnp.sqrt(vmax) + eps))


def keras_eps_hat(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (eps-hat): keras.optimizers.Adam(amsgrad=True): lr*sqrt(1-b2^t)/(1-b1^t)*m/(sqrt(max v)+eps)."""
    return _amsgrad(learning_rate, b1, b2, eps,
                    direction=lambda m, vmax, c1, c2, eps: jnp.sqrt(c2) / c1 * m / (jnp.sqrt(vmax) + eps))


def forgets_max(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (wrong-rule): the max is kept in the state but the step divides by the current v (plain Adam)."""
    return _amsgrad(learning_rate, b1, b2, eps, new_max=lambda vmax, v, v_prev, c2: v)


def max_of_previous_v(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (wrong-rule): max taken with the previous step's v (before it is updated), then with nothing new."""
    return _amsgrad(learning_rate, b1, b2, eps, new_max=lambda vmax, v, v_prev, c2: jnp.maximum(vmax, v_prev))


def ignores_b1(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """BUG (ignored-hyperparameter): b1 accepted but 0.9 hard-coded (invisible at the default)."""
    del b1
    return _amsgrad(learning_rate, 0.9, b2, eps)
