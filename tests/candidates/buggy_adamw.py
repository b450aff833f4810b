"""Buggy candidates for the "adamw" spec (p <- p - lr*(m_hat/(sqrt(v_hat) + eps) + weight_decay*p)); one bug each."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def _zeros(params):
    return jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)


def _adam_step(m, v, t, b1, b2, eps):
    return (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + eps)


def _eps_hat_step(m, v, t, b1, b2, eps):
    return jnp.sqrt(1 - b2**t) / (1 - b1**t) * m / (jnp.sqrt(v) + eps)


def _decoupled(step, p, lr, wd):
    return -lr * step - lr * wd * p


def _adamw(learning_rate, b1, b2, eps, weight_decay, *, step=_adam_step, combine=_decoupled, l2=False,
           decay_lr_at=None):
    """Correct skeleton unless ``step``, ``combine``, ``l2`` or ``decay_lr_at`` carries the bug."""

    def init(params):
        return {"count": jnp.zeros([], jnp.int32), "mu": _zeros(params), "nu": _zeros(params)}

    def update(grads, state, params=None):
        t = state["count"] + 1
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["mu"])
        p = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), params, state["mu"])
        if l2:
            g = jax.tree.map(lambda x, q: x + jnp.asarray(weight_decay, x.dtype) * q, g, p)
        mu = jax.tree.map(lambda m, x: jnp.asarray(b1, m.dtype) * m + jnp.asarray(1 - b1, m.dtype) * x, state["mu"], g)
        nu = jax.tree.map(lambda v, x: jnp.asarray(b2, v.dtype) * v + jnp.asarray(1 - b2, v.dtype) * x * x, state["nu"], g)
        lr = _lr_at(learning_rate, state["count"])
        lr_decay = lr if decay_lr_at is None else _lr_at(learning_rate, decay_lr_at)

        def leaf(m, v, q, orig):
            dt = m.dtype
            s = step(m, v, t.astype(dt), jnp.asarray(b1, dt), jnp.asarray(b2, dt), jnp.asarray(eps, dt))
            if l2:
                u = -jnp.asarray(lr, dt) * s
            else:
                u = combine(s, q, jnp.asarray(lr, dt), jnp.asarray(weight_decay, dt))
                if decay_lr_at is not None:
                    u = -jnp.asarray(lr, dt) * s - jnp.asarray(lr_decay, dt) * jnp.asarray(weight_decay, dt) * q
            return u.astype(jnp.result_type(orig))

        return jax.tree.map(leaf, mu, nu, p, grads), {"count": t, "mu": mu, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def decay_not_scaled_by_lr(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """BUG (weight-decay-convention): p -= weight_decay*p, not lr*weight_decay*p (tensorflow-addons AdamW, pytorch_optimizer fixed_decay)."""
    return _adamw(learning_rate, b1, b2, eps, weight_decay, combine=lambda s, p, lr, wd: -lr * s - wd * p)


def l2_in_gradient(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """BUG (weight-decay-convention): L2 regularisation, g + wd*p into Adam's moments (torch.optim.Adam(weight_decay=...))."""
    return _adamw(learning_rate, b1, b2, eps, weight_decay, l2=True)


def decay_after_step(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """BUG (weight-decay-convention): the decay multiplies the parameters after the Adam step: (p - lr*s)(1 - lr*wd) - p."""
    return _adamw(learning_rate, b1, b2, eps, weight_decay,
                  combine=lambda s, p, lr, wd: -lr * s - lr * wd * (p - lr * s))


def transformers_port(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """BUG (weight-decay-convention): a JAX port of HuggingFace transformers' AdamW: eps-hat step, then decay of the updated p."""
    return _adamw(learning_rate, b1, b2, eps, weight_decay, step=_eps_hat_step,
                  combine=lambda s, p, lr, wd: -lr * s - lr * wd * (p - lr * s))


def keras_eps_hat(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """BUG (eps-hat): keras.optimizers.AdamW's step, lr*sqrt(1-b2^t)/(1-b1^t)*m/(sqrt(v)+eps), with the decoupled decay."""
    return _adamw(learning_rate, b1, b2, eps, weight_decay, step=_eps_hat_step)


def ignores_weight_decay(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """BUG (ignored-hyperparameter): weight_decay accepted but 1e-4 hard-coded (invisible at the default)."""
    del weight_decay
    return _adamw(learning_rate, b1, b2, eps, 1e-4)


def decay_sign_flipped(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """BUG (wrong-rule): p += lr*wd*p, the weights grow (the sign slip ousou points out in egg-west/AdamW-pytorch #1)."""
    return _adamw(learning_rate, b1, b2, eps, weight_decay, combine=lambda s, p, lr, wd: -lr * s + lr * wd * p)


def decay_lr_frozen(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """BUG (schedule): the decay uses the schedule's first learning rate, learning_rate(0), at every step."""
    return _adamw(learning_rate, b1, b2, eps, weight_decay, decay_lr_at=0)
