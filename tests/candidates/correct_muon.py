"""Correct candidates for the "muon" spec (optax.contrib.muon's rule: NS5 of the bias-corrected Nesterov
momentum on 2-D leaves, scaled by sqrt(max(1, out/in)); NAdam on the other leaves)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from tests.candidates._mixed_precision import float32_compute

A, B, C = 3.4445, -4.7750, 2.0315


def _wide(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _mm(x, y):
    return jnp.matmul(x, y, precision=jax.lax.Precision.HIGHEST)


def _zeropower_right(x, eps, steps=5):
    """The iteration written on the right: X <- a X + X (b A + c A A), A = X^T X (no transposition needed)."""
    x = x / (jnp.linalg.norm(x) + eps)
    for _ in range(steps):
        gram = _mm(x.T, x)
        x = A * x + _mm(x, B * gram + C * _mm(gram, gram))
    return x


class Muon:
    """A class with methods, dict state and a constant float learning rate (as most ports are written)."""

    def __init__(self, learning_rate=0.02, beta=0.95, eps=1e-8, weight_decay=0.0, adam_b1=0.9, adam_b2=0.999,
                 **kwargs):
        self.lr = float(learning_rate)
        self.beta, self.eps, self.wd = beta, eps, weight_decay
        self.b1, self.b2 = adam_b1, adam_b2

    def init(self, params):
        zeros = jax.tree.map(lambda p: jnp.zeros(jnp.shape(p), _wide(p)), params)
        return {"step": jnp.zeros([], jnp.int32), "m": zeros, "v": zeros}

    def _orthogonalize(self, g):
        rows, cols = g.shape
        x = g.T if rows > cols else g
        x = x / (jnp.sqrt(jnp.sum(jnp.square(x))) + self.eps)
        for _ in range(5):
            gram = _mm(x, x.T)
            x = A * x + _mm(B * gram + C * _mm(gram, gram), x)
        return x.T if rows > cols else x

    def _leaf(self, g, m, v, p, t):
        dt = m.dtype
        g = g.astype(dt)
        if g.ndim == 2:
            beta = self.beta
            m = beta * m + (1 - beta) * g
            nesterov = beta * m / (1 - beta ** (t + 1)) + (1 - beta) * g / (1 - beta**t)
            fan_in, fan_out = g.shape
            scale = max(1.0, fan_out / fan_in) ** 0.5 if fan_in else 1.0
            u = scale * self._orthogonalize(nesterov) + self.wd * p.astype(dt)
        else:
            m = self.b1 * m + (1 - self.b1) * g
            v = self.b2 * v + (1 - self.b2) * g * g
            m_hat = self.b1 * m / (1 - self.b1 ** (t + 1)) + (1 - self.b1) * g / (1 - self.b1**t)
            u = m_hat / (jnp.sqrt(v / (1 - self.b2**t)) + self.eps)
        return -self.lr * u, m, v

    def update(self, grads, state, params=None):
        t = state["step"] + 1
        if params is None:
            params = jax.tree.map(jnp.zeros_like, grads)
        treedef = jax.tree.structure(grads)
        out = [self._leaf(g, m, v, p, t.astype(m.dtype)) for g, m, v, p in zip(
            treedef.flatten_up_to(grads), treedef.flatten_up_to(state["m"]), treedef.flatten_up_to(state["v"]),
            treedef.flatten_up_to(params))]
        pick = lambda i: treedef.unflatten([o[i] for o in out])  # noqa: E731
        updates = jax.tree.map(lambda u, g: u.astype(jnp.result_type(g)), pick(0), grads)
        return updates, {"step": t, "m": pick(1), "v": pick(2)}


class _NSState(NamedTuple):
    count: jax.Array
    mu: object


def _scale_by_muon_matrices(beta, eps):
    """An optax GradientTransformation for the 2-D leaves only, written against optax's API."""

    def init(params):
        return _NSState(jnp.zeros([], jnp.int32), jax.tree.map(jnp.zeros_like, params))

    def update(updates, state, params=None):
        t = state.count + 1
        mu = jax.tree.map(lambda m, g: beta * m + (1 - beta) * g, state.mu, updates)
        bc = lambda k, x: 1 - beta ** k.astype(x.dtype)  # noqa: E731
        hat = jax.tree.map(lambda m, g: beta * m / bc(t + 1, g) + (1 - beta) * g / bc(t, g), mu, updates)

        def ortho(x):
            fan_in, fan_out = x.shape
            scale = max(1.0, fan_out / fan_in) ** 0.5 if fan_in else 1.0
            return scale * _zeropower_right(x, eps)

        return jax.tree.map(ortho, hat), _NSState(t, mu)

    return optax.GradientTransformation(init, update)


def muon_optax_partition(learning_rate, beta=0.95, eps=1e-8, weight_decay=0.0, adam_b1=0.9, adam_b2=0.999):
    """optax.partition: own NS transform (right-multiplied form) + add_decayed_weights for 2-D leaves, optax.nadam
    for the rest; statistics in float32 for narrow leaves."""
    labels = lambda params: jax.tree.map(lambda p: "muon" if jnp.ndim(p) == 2 else "adam", params)  # noqa: E731
    return float32_compute(optax.partition(
        {"muon": optax.chain(_scale_by_muon_matrices(beta, eps), optax.add_decayed_weights(weight_decay),
                             optax.scale_by_learning_rate(learning_rate)),
         "adam": optax.nadam(learning_rate, b1=adam_b1, b2=adam_b2, eps=eps)},
        labels))


def muon_optax_contrib(learning_rate, beta=0.95, eps=1e-8, weight_decay=0.0, adam_b1=0.9, adam_b2=0.999):
    """optax.contrib.muon itself, fed float32 (statistics of narrow leaves in float32, as a mixed-precision loop)."""
    return float32_compute(optax.contrib.muon(learning_rate, beta=beta, eps=eps, weight_decay=weight_decay,
                                              adam_b1=adam_b1, adam_b2=adam_b2))
