"""Buggy candidates for the "adafactor" spec (Shazeer & Stern: factored second moment, update clipping,
relative step lr * max(1e-3, RMS(p))); one bug each."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

F32_EPS = float(jnp.finfo(jnp.float32).eps)


def _dt(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _rms(x):
    return jnp.sqrt(jnp.mean(x * x))


def _axes(shape, min_dim):
    if len(shape) < 2:
        return None
    order = sorted(range(len(shape)), key=lambda i: (shape[i], i))
    return (order[-2], order[-1]) if shape[order[-2]] >= min_dim else None


def _clip(u, d):
    return u / jnp.maximum(1.0, _rms(u) / d)


def _adafactor(learning_rate, min_dim_size_to_factor=1.0, decay_rate=0.8, clipping_threshold=1.0, eps=1e-30,
               momentum=0.0, weight_decay_rate=0.0, *, beta2=None, clip=_clip, rho=None, param_scale=True,
               momentum_on_gradient=False, decay=None, torch_eps=False, normalise_rows=True):
    """Correct skeleton (a dict per leaf); each keyword after ``*`` carries one bug."""
    beta2 = beta2 or (lambda t: 1.0 - t ** (-decay_rate))
    rho = rho or (lambda lr, t: lr)
    decay = decay or (lambda lr, scale, p: weight_decay_rate * p)

    def init(params):
        def leaf(p):
            dt, ax = _dt(p), _axes(p.shape, min_dim_size_to_factor)
            z = jnp.zeros(p.shape, dt)
            st = {"m": z, "gm": z}
            if ax is None:
                st["v"] = z
            else:
                st["r"], st["c"] = z.mean(axis=ax[1]), z.mean(axis=ax[0])
            return st

        return {"t": jnp.zeros([], jnp.int32), "leaves": jax.tree.map(leaf, params)}

    def update(grads, state, params):
        t = state["t"] + 1
        lr = learning_rate(state["t"]) if callable(learning_rate) else learning_rate
        g_leaves, tree = jax.tree.flatten(grads)
        outs, sts = [], []
        for g0, st, p in zip(g_leaves, tree.flatten_up_to(state["leaves"]), tree.flatten_up_to(params)):
            dt = _dt(g0)
            g, p, st = g0.astype(dt), p.astype(dt), dict(st)
            tf = t.astype(dt)
            b = beta2(tf)
            x = g
            if momentum_on_gradient:
                st["gm"] = momentum * st["gm"] + (1 - momentum) * g
                x = st["gm"]
            sq = x * x + (0.0 if torch_eps else eps)
            if "v" in st:
                st["v"] = b * st["v"] + (1 - b) * sq
                vhat = st["v"]
            else:
                small, large = _axes(g.shape, min_dim_size_to_factor)
                st["r"] = b * st["r"] + (1 - b) * sq.mean(axis=large)
                st["c"] = b * st["c"] + (1 - b) * sq.mean(axis=small)
                ax = small if small < large else small - 1
                denom = st["r"].mean(axis=ax, keepdims=True) if normalise_rows else 1.0
                if torch_eps:
                    denom = jnp.maximum(denom, F32_EPS)
                vhat = jnp.expand_dims(st["r"] / denom, large) * jnp.expand_dims(st["c"], small)
            if torch_eps:
                vhat = jnp.maximum(vhat, F32_EPS**2)
            u = clip(x / jnp.sqrt(vhat), clipping_threshold)
            step_size = rho(lr, tf)
            scale = jnp.maximum(1e-3, _rms(p)) if param_scale else 1.0
            delta = step_size * scale * u
            if momentum and not momentum_on_gradient:
                st["m"] = momentum * st["m"] + (1 - momentum) * delta
                delta = st["m"]
            delta = delta + decay(step_size, scale, p)
            outs.append((-delta).astype(g0.dtype))
            sts.append(st)
        return tree.unflatten(outs), {"t": t, "leaves": tree.unflatten(sts)}

    return SimpleNamespace(init=init, update=update)


def optax_default_min_dim(learning_rate, decay_rate=0.8, clipping_threshold=1.0, eps=1e-30, momentum=0.0,
                          weight_decay_rate=0.0, **kwargs):
    """BUG (factoring): min_dim_size_to_factor swallowed by **kwargs, optax's default 128 kept: nothing small is factored."""
    return _adafactor(learning_rate, 128, decay_rate, clipping_threshold, eps, momentum, weight_decay_rate)


def relative_step_cap(learning_rate, **hp):
    """BUG (relative-step): torch/Keras step size rho_t = min(lr, 1/sqrt(t)); shows once t > 1/lr^2."""
    return _adafactor(learning_rate, **hp, rho=lambda lr, t: jnp.minimum(lr, 1.0 / jnp.sqrt(t)))


def clip_inverted(learning_rate, **hp):
    """BUG (update-clipping): divides by min(1, RMS(U)/d), scaling small updates up (timm PR #2790)."""
    return _adafactor(learning_rate, **hp, clip=lambda u, d: u / jnp.minimum(1.0, _rms(u) / d))


def no_parameter_scale(learning_rate, **hp):
    """BUG (relative-step): the step is lr * U_hat, not lr * max(1e-3, RMS(p)) * U_hat."""
    return _adafactor(learning_rate, **hp, param_scale=False)


def momentum_on_gradient(learning_rate, **hp):
    """BUG (momentum-convention): Adam-style EMA of the gradient, normalised afterwards; shows with momentum > 0."""
    return _adafactor(learning_rate, **hp, momentum_on_gradient=True)


def decay_times_lr(learning_rate, **hp):
    """BUG (weight-decay): -lr * wd * p (torch's decoupled form) instead of optax's -wd * p; shows with wd > 0."""
    return _adafactor(learning_rate, **hp, decay=lambda lr, scale, p: lr * hp.get("weight_decay_rate", 0.0) * p)


def decay_times_scaled_lr(learning_rate, **hp):
    """BUG (weight-decay): -lr * max(1e-3, RMS(p)) * wd * p (transformers); shows with wd > 0."""
    return _adafactor(learning_rate, **hp,
                      decay=lambda lr, scale, p: lr * scale * hp.get("weight_decay_rate", 0.0) * p)


def torch_eps(learning_rate, **hp):
    """BUG (eps-placement): torch's eps1 (float32 machine eps) clamps V_hat and mean(R) instead of adding eps to G^2."""
    return _adafactor(learning_rate, **hp, torch_eps=True)


def ignores_decay_rate(learning_rate, min_dim_size_to_factor=1.0, clipping_threshold=1.0, eps=1e-30, momentum=0.0,
                       weight_decay_rate=0.0, **kwargs):
    """BUG (ignored-hyperparameter): decay_rate hard-coded to 0.8."""
    return _adafactor(learning_rate, min_dim_size_to_factor, 0.8, clipping_threshold, eps, momentum, weight_decay_rate)


def ignores_clipping_threshold(learning_rate, min_dim_size_to_factor=1.0, decay_rate=0.8, eps=1e-30, momentum=0.0,
                               weight_decay_rate=0.0, **kwargs):
    """BUG (ignored-hyperparameter): clipping_threshold hard-coded to 1."""
    return _adafactor(learning_rate, min_dim_size_to_factor, decay_rate, 1.0, eps, momentum, weight_decay_rate)


def constant_beta2(learning_rate, **hp):
    """BUG (wrong-rule): Adam's constant beta2 = 0.999 (with no bias correction) instead of 1 - t^-0.8."""
    return _adafactor(learning_rate, **hp, beta2=lambda t: 0.999)


def unnormalised_factors(learning_rate, **hp):
    """BUG (wrong-rule): V_hat = R C, the division by mean(R) forgotten."""
    return _adafactor(learning_rate, **hp, normalise_rows=False)


def flat_vector(learning_rate, min_dim_size_to_factor=1.0, **hp):
    """BUG (global-statistics): the tree raveled into one vector first (ravel_pytree): one RMS for all leaves, nothing factored."""
    inner = _adafactor(learning_rate, min_dim_size_to_factor, **hp)

    def init(params):
        return inner.init(ravel_pytree(params)[0])

    def update(grads, state, params):
        flat_g, unravel = ravel_pytree(grads)
        u, state = inner.update(flat_g, state, ravel_pytree(params)[0])
        return unravel(u), state

    return SimpleNamespace(init=init, update=update)
