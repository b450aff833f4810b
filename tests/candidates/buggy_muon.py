"""Buggy candidates for the "muon" spec (optax.contrib.muon's rule); one bug or one other convention each.

Most are a faithful JAX Muon with one line changed, the way ports of Jordan's, torch's, Moonlight's or
Keras's code come out.
"""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np

COEFFS = (3.4445, -4.7750, 2.0315)


def _dt(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _mm(x, y):
    return jnp.matmul(x, y, precision=jax.lax.Precision.HIGHEST)


def _frobenius(x, eps):
    return x / (jnp.sqrt(jnp.sum(x * x)) + eps)


def _newton_schulz(x, eps, coeffs=COEFFS, steps=5, normalise=_frobenius, dtype=None):
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    out_dtype = x.dtype
    if dtype is not None:
        x = x.astype(dtype)
    x = normalise(x, eps)
    a, b, c = coeffs
    for _ in range(steps):
        gram = _mm(x, x.T)
        x = a * x + _mm(b * gram + c * _mm(gram, gram), x)
    x = x.astype(out_dtype)
    return x.T if tall else x


def _optax_scale(shape):
    fan_in, fan_out = shape
    return max(1.0, fan_out / fan_in) ** 0.5 if fan_in else 1.0


def _optax_momentum(m, g, t, beta):
    m = beta * m + (1 - beta) * g
    return m, beta * m / (1 - beta ** (t + 1)) + (1 - beta) * g / (1 - beta**t)


def _nadam(g, m, v, t, b1, b2, eps):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
    return m_hat / (jnp.sqrt(v / (1 - b2**t)) + eps), m, v


def _muon(learning_rate, beta=0.95, eps=1e-8, weight_decay=0.0, adam_b1=0.9, adam_b2=0.999, *,
          momentum=_optax_momentum, orthogonalize=_newton_schulz, scale=_optax_scale, other=_nadam,
          decay_all_leaves=False):
    """A faithful Muon; ``momentum``, ``orthogonalize``, ``scale`` or ``other`` carries the bug."""

    def init(params):
        z = jax.tree.map(lambda p: jnp.zeros(jnp.shape(p), _dt(p)), params)
        return {"count": jnp.zeros([], jnp.int32), "m": z, "v": z}

    def update(grads, state, params=None):
        t = state["count"] + 1
        lr = learning_rate(state["count"]) if callable(learning_rate) else learning_rate
        params = params if params is not None else jax.tree.map(jnp.zeros_like, grads)
        treedef = jax.tree.structure(grads)

        def leaf(g, m, v, p):
            dt = m.dtype
            g, p = jnp.asarray(g).astype(dt), jnp.asarray(p).astype(dt)
            tt = t.astype(dt)
            if g.ndim == 2:
                m, hat = momentum(m, g, tt, beta)
                u = scale(g.shape) * orthogonalize(hat, eps) + weight_decay * p
            else:
                u, m, v = other(g, m, v, tt, adam_b1, adam_b2, eps)
                if decay_all_leaves:
                    u = u + weight_decay * p
            return -lr * u, m, v

        out = [leaf(*a) for a in zip(treedef.flatten_up_to(grads), treedef.flatten_up_to(state["m"]),
                                     treedef.flatten_up_to(state["v"]), treedef.flatten_up_to(params))]
        ups = treedef.unflatten([o[0].astype(jnp.result_type(g)) for o, g in zip(out, treedef.flatten_up_to(grads))])
        return ups, {"count": t, "m": treedef.unflatten([o[1] for o in out]),
                     "v": treedef.unflatten([o[2] for o in out])}

    return SimpleNamespace(init=init, update=update)


# ------------------------------------------------------------------ other conventions (each named by key)

def jordan_momentum(learning_rate, **hp):
    """CONVENTION [uncorrected_momentum]: KellerJordan/Muon muon_update / torch.optim.Muon: momentum.lerp_(g, 1 - beta),
    update g.lerp(momentum, beta), no bias correction."""

    def mom(m, g, t, beta):
        m = beta * m + (1 - beta) * g
        return m, (1 - beta) * g + beta * m

    return _muon(learning_rate, **hp, momentum=mom)


def heavy_ball(learning_rate, **hp):
    """CONVENTION [heavy_ball_momentum]: Moonlight / Keras / Jordan's 2024 code: buf = beta buf + g; g + beta buf."""

    def mom(m, g, t, beta):
        m = beta * m + g
        return m, g + beta * m

    return _muon(learning_rate, **hp, momentum=mom)


def no_nesterov(learning_rate, **hp):
    """CONVENTION [no_nesterov]: orthogonalises the (bias-corrected) momentum itself."""

    def mom(m, g, t, beta):
        m = beta * m + (1 - beta) * g
        return m, m / (1 - beta**t)

    return _muon(learning_rate, **hp, momentum=mom)


def torch_layout_scale(learning_rate, **hp):
    """CONVENTION [transposed_layout]: torch's sqrt(max(1, A/B)) (A, B = shape[:2], torch's (out, in)) applied to a
    JAX (in, out) kernel unchanged."""
    return _muon(learning_rate, **hp, scale=lambda shape: max(1.0, shape[0] / shape[1]) ** 0.5 if shape[1] else 1.0)


def moonlight_scale(learning_rate, **hp):
    """CONVENTION [match_rms_adamw]: Moonlight's 0.2 sqrt(max(A, B)) (torch adjust_lr_fn='match_rms_adamw')."""
    return _muon(learning_rate, **hp, scale=lambda shape: 0.2 * max(shape) ** 0.5)


def norm_clamp(learning_rate, **hp):
    """CONVENTION [norm_clamp]: torch.optim.Muon's X / norm().clamp(min=eps)."""
    return _muon(learning_rate, **hp, orthogonalize=lambda x, eps: _newton_schulz(
        x, eps, normalise=lambda y, e: y / jnp.maximum(jnp.sqrt(jnp.sum(y * y)), e)))


def spectral_norm(learning_rate, **hp):
    """CONVENTION [spectral_normalisation]: X / (||X||_2 + eps) (optax preconditioning='spectral')."""

    def spec(y, e):
        return y / (jnp.linalg.norm(y, 2) + e) if y.size else y

    return _muon(learning_rate, **hp, orthogonalize=lambda x, eps: _newton_schulz(x, eps, normalise=spec))


def svd_polar(learning_rate, **hp):
    """CONVENTION [svd_polar]: the exact polar factor U V^T by an SVD."""

    def polar(x, eps):
        if x.size == 0:
            return x
        u, s, vt = jnp.linalg.svd(x, full_matrices=False)
        return _mm(u * (s > 0), vt)

    return _muon(learning_rate, **hp, orthogonalize=polar)


def cubic_newton_schulz(learning_rate, **hp):
    """CONVENTION [cubic_newton_schulz]: the classic X <- 1.5 X - 0.5 X X^T X, five steps."""
    return _muon(learning_rate, **hp, orthogonalize=lambda x, eps: _newton_schulz(x, eps, coeffs=(1.5, -0.5, 0.0)))


def adam_on_vectors(learning_rate, **hp):
    """CONVENTION [plain_adam_leaves]: plain Adam on the leaves that are not 2-D (Jordan's MuonWithAuxAdam)."""

    def adam(g, m, v, t, b1, b2, eps):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        return (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + eps), m, v

    return _muon(learning_rate, **hp, other=adam)


# ------------------------------------------------------------------ plain bugs

def ignores_beta(learning_rate, beta=0.95, **hp):
    """BUG (ignored-hyperparameter): beta hard-coded to 0.95 (invisible at the default)."""
    return _muon(learning_rate, beta=0.95, **hp)


def bfloat16_newton_schulz(learning_rate, **hp):
    """BUG (precision): the iteration run in bfloat16, as Jordan's, Moonlight's and torch's reference code on GPU."""
    return _muon(learning_rate, **hp, orthogonalize=lambda x, eps: _newton_schulz(x, eps, dtype=jnp.bfloat16))


def decay_on_every_leaf(learning_rate, **hp):
    """BUG (wrong-rule): weight_decay applied to the vectors too (optax has adam_weight_decay = 0 for them)."""
    return _muon(learning_rate, **hp, decay_all_leaves=True)


def six_steps(learning_rate, **hp):
    """BUG (wrong-rule): six Newton-Schulz iterations instead of five."""
    return _muon(learning_rate, **hp, orthogonalize=lambda x, eps: _newton_schulz(x, eps, steps=6))


def no_normalisation(learning_rate, **hp):
    """BUG (wrong-rule): the momentum is not divided by its norm before the iteration."""
    return _muon(learning_rate, **hp, orthogonalize=lambda x, eps: _newton_schulz(x, eps, normalise=lambda y, e: y))


del np
