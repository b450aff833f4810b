"""Buggy candidates for the "lamb" spec (You et al. Algorithm 2, per-leaf trust ratio); one bug each."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree


def _dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _zeros(params):
    return jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)


def _adam_direction(m, v, t, b1, b2, eps):
    return (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + eps)


def _safe_ratio(w_norm, r_norm):
    ok = (w_norm > 0) & (r_norm > 0)
    return jnp.where(ok, w_norm / jnp.where(ok, r_norm, 1.0), 1.0)


def _lamb(learning_rate, b1, b2, eps, weight_decay, *, direction=_adam_direction, ratio=None, decay_first=False):
    """Correct per-leaf skeleton; ``direction``, ``ratio(w, r, g)`` or ``decay_first`` carries the bug."""
    ratio = ratio or (lambda w, r, g: _safe_ratio(jnp.linalg.norm(w), jnp.linalg.norm(r)))
    lr = float(learning_rate)

    def init(params):
        return {"count": jnp.zeros([], jnp.int32), "mu": _zeros(params), "nu": _zeros(params)}

    def update(grads, state, params=None):
        t = state["count"] + 1
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["mu"])
        mu = jax.tree.map(lambda m, x: b1 * m + (1 - b1) * x, state["mu"], g)
        nu = jax.tree.map(lambda v, x: b2 * v + (1 - b2) * x * x, state["nu"], g)

        def leaf(m, v, p, gi, orig):
            dt = m.dtype
            w = jnp.asarray(p).astype(dt)
            r = direction(m, v, t.astype(dt), jnp.asarray(b1, dt), jnp.asarray(b2, dt), jnp.asarray(eps, dt))
            if decay_first:  # Keras: w <- w - lr*wd*w, then the ratio of the decayed w on the Adam step
                w_new = w - lr * weight_decay * w
                u = (w_new - lr * ratio(w_new, r, gi) * r) - w
            else:
                r = r + weight_decay * w
                u = -lr * ratio(w, r, gi) * r
            return u.astype(jnp.result_type(orig))

        return jax.tree.map(leaf, mu, nu, params, g, grads), {"count": t, "mu": mu, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def keras_decoupled_decay(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    """BUG (decay-placement): Keras 3 / pytorch_optimizer form: decay the weights first (p -= lr*wd*p),
    then the trust ratio ||p||/||adam|| on the Adam step alone. The same rule at weight_decay = 0."""
    return _lamb(learning_rate, b1, b2, eps, weight_decay, decay_first=True)


def no_bias_correction(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    """BUG (bias-correction): torch_optimizer's default (debias=False, 'Paper v3 does not use debiasing'):
    r = m/(sqrt(v) + eps) from the raw moments."""
    return _lamb(learning_rate, b1, b2, eps, weight_decay,
                 direction=lambda m, v, t, b1, b2, e: m / (jnp.sqrt(v) + e))


def weight_norm_clamped(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    """BUG (trust-ratio): torch_optimizer / pytorch_optimizer: weight norm clamped to [0, 10] in the ratio."""
    return _lamb(learning_rate, b1, b2, eps, weight_decay,
                 ratio=lambda w, r, g: _safe_ratio(jnp.clip(jnp.linalg.norm(w), 0.0, 10.0), jnp.linalg.norm(r)))


def zero_weights_frozen(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    """BUG (trust-ratio): ratio = ||p|| / ||r|| guarded only against ||r|| = 0, so a zero-initialised
    leaf (a bias) gets ratio 0 and never moves (cybertronai/pytorch-lamb before PR #6)."""

    def ratio(w, r, g):
        rn = jnp.linalg.norm(r)
        return jnp.where(rn > 0, jnp.linalg.norm(w) / jnp.where(rn > 0, rn, 1.0), 1.0)

    return _lamb(learning_rate, b1, b2, eps, weight_decay, ratio=ratio)


def eps_inside_sqrt(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    """BUG (eps-placement): m_hat / sqrt(v_hat + eps) (gluonnlp's LAMB with bias_correction=True)."""
    return _lamb(learning_rate, b1, b2, eps, weight_decay,
                 direction=lambda m, v, t, b1, b2, e: (m / (1 - b1**t)) / jnp.sqrt(v / (1 - b2**t) + e))


def ratio_inverted(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    """BUG (wrong-rule): trust ratio upside down, ||r|| / ||p||."""
    return _lamb(learning_rate, b1, b2, eps, weight_decay,
                 ratio=lambda w, r, g: _safe_ratio(jnp.linalg.norm(r), jnp.linalg.norm(w)))


def gradient_norm_ratio(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    """BUG (wrong-rule): LARS's ratio ||p|| / ||g|| (gradient norm) applied to the Adam direction."""
    return _lamb(learning_rate, b1, b2, eps, weight_decay,
                 ratio=lambda w, r, g: _safe_ratio(jnp.linalg.norm(w), jnp.linalg.norm(g)))


def ignores_weight_decay(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0, **kwargs):
    """BUG (ignored-hyperparameter): weight_decay accepted and dropped (invisible at the default 0)."""
    del weight_decay
    return _lamb(learning_rate, b1, b2, eps, 0.0)


def lamb_flat(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0):
    """BUG (global-statistics): the whole tree as one flat vector (ravel_pytree), so one trust ratio
    from the norms of every parameter together instead of one per leaf."""
    lr = float(learning_rate)

    def init(params):
        flat, _ = ravel_pytree(params)
        z = jnp.zeros_like(flat, dtype=_dtype(flat))
        return (jnp.zeros([], jnp.int32), z, z)

    def update(grads, state, params=None):
        count, m, v = state
        g, unravel = ravel_pytree(grads)
        w, _ = ravel_pytree(params)
        g, w = g.astype(m.dtype), w.astype(m.dtype)
        t = (count + 1).astype(m.dtype)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        r = _adam_direction(m, v, t, b1, b2, eps) + weight_decay * w
        u = -lr * _safe_ratio(jnp.linalg.norm(w), jnp.linalg.norm(r)) * r
        leaves = jax.tree.leaves(unravel(u))
        treedef = jax.tree.structure(grads)
        return (treedef.unflatten([x.astype(jnp.result_type(o)) for x, o in zip(leaves, jax.tree.leaves(grads))]),
                (count + 1, m, v))

    return SimpleNamespace(init=init, update=update)
