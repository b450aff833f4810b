"""Buggy candidates for the "radam" spec (Liu et al. Algorithm 2, eps on sqrt(v_hat), threshold 5); one bug each.

The first three follow other libraries' conventions (the diagnoser names them); the rest are plain bugs.
"""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _zeros(params):
    return jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)


def _rho(t, b2):
    rho_inf = 2 / (1 - b2) - 1
    return rho_inf - 2 * t * b2**t / (1 - b2**t), rho_inf


def _r(rho, rho_inf):
    return jnp.sqrt(jnp.maximum((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho), 0.0))


def _correct_step(m, v, t, b1, b2, eps, threshold):
    rho, rho_inf = _rho(t, b2)
    m_hat = m / (1 - b1**t)
    adapted = _r(rho, rho_inf) * m_hat / (jnp.sqrt(v / (1 - b2**t)) + eps)
    return jnp.where(rho >= threshold, adapted, m_hat)


def _radam(learning_rate, b1, b2, eps, threshold, *, step=_correct_step):
    """Correct skeleton, dict state; ``step(m, v, t, b1, b2, eps, threshold)`` carries the bug."""

    def init(params):
        return {"count": jnp.zeros([], jnp.int32), "mu": _zeros(params), "nu": _zeros(params)}

    def update(grads, state, params=None):
        del params
        t = state["count"] + 1
        g = jax.tree.map(lambda x, m: jnp.asarray(x).astype(m.dtype), grads, state["mu"])
        mu = jax.tree.map(lambda m, x: b1 * m + (1 - b1) * x, state["mu"], g)
        nu = jax.tree.map(lambda v, x: b2 * v + (1 - b2) * x * x, state["nu"], g)
        lr = learning_rate(state["count"]) if callable(learning_rate) else learning_rate

        def leaf(m, v, orig):
            dt = m.dtype
            d = step(m, v, t.astype(dt), b1, b2, eps, threshold)
            return (-lr * d).astype(jnp.result_type(orig))

        return jax.tree.map(leaf, mu, nu, grads), {"count": t, "mu": mu, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def torch_eps(learning_rate, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    """CONVENTION (eps-hat): torch.optim.RAdam's eps on the raw sqrt(v): r sqrt(1-b2^t)/(sqrt(v) + eps) * m_hat."""

    def step(m, v, t, b1, b2, eps, threshold):
        rho, rho_inf = _rho(t, b2)
        m_hat = m / (1 - b1**t)
        adapted = _r(rho, rho_inf) * jnp.sqrt(1 - b2**t) / (jnp.sqrt(v) + eps) * m_hat
        return jnp.where(rho >= threshold, adapted, m_hat)

    return _radam(learning_rate, b1, b2, eps, threshold, step=step)


def no_step_below_threshold(learning_rate, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    """CONVENTION (rectification): pytorch_optimizer's degenerated_to_sgd=False: no update at all before the threshold."""

    def step(m, v, t, b1, b2, eps, threshold):
        rho, _ = _rho(t, b2)
        return jnp.where(rho >= threshold, _correct_step(m, v, t, b1, b2, eps, threshold), jnp.zeros_like(m))

    return _radam(learning_rate, b1, b2, eps, threshold, step=step)


class AuthorsRAdam:
    """CONVENTION (rectification): the authors' radam/radam.py defaults as a class: step_size folds
    sqrt(1 - b2^t)/(1 - b1^t) and r_t; denom = sqrt(v) + eps; no update while N_sma < 5."""

    def __init__(self, learning_rate, b1=0.9, b2=0.999, eps=1e-8, **kwargs):
        self.lr, self.b1, self.b2, self.eps = float(learning_rate), b1, b2, eps
        self.n_sma_max = 2 / (1 - b2) - 1

    def init(self, params):
        return (jnp.zeros([], jnp.int32), _zeros(params), _zeros(params))

    def update(self, grads, state, params=None):
        step, exp_avg, exp_avg_sq = state
        step = step + 1
        exp_avg = jax.tree.map(lambda m, g: m * self.b1 + (1 - self.b1) * g.astype(m.dtype), exp_avg, grads)
        exp_avg_sq = jax.tree.map(lambda v, g: v * self.b2 + (1 - self.b2) * jnp.square(g.astype(v.dtype)),
                                  exp_avg_sq, grads)

        def leaf(m, v, g):
            t = step.astype(m.dtype)
            beta2_t = self.b2**t
            n_sma = self.n_sma_max - 2 * t * beta2_t / (1 - beta2_t)
            step_size = jnp.sqrt(jnp.maximum(
                (1 - beta2_t) * (n_sma - 4) / (self.n_sma_max - 4) * (n_sma - 2) / n_sma
                * self.n_sma_max / (self.n_sma_max - 2), 0.0)) / (1 - self.b1**t)
            u = jnp.where(n_sma >= 5, -step_size * self.lr * m / (jnp.sqrt(v) + self.eps), 0.0)
            return u.astype(jnp.result_type(g))

        return jax.tree.map(leaf, exp_avg, exp_avg_sq, grads), (step, exp_avg, exp_avg_sq)


def threshold_ignored(learning_rate, b1=0.9, b2=0.999, eps=1e-8, **kwargs):
    """BUG (ignored-hyperparameter): threshold swallowed by **kwargs, 5 hard-coded (invisible at the default)."""
    return _radam(learning_rate, b1, b2, eps, 5.0)


def no_rho_inf_factor(learning_rate, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    """BUG (wrong-rule): r_t = sqrt((rho-4)(rho-2)/rho) without the rho_inf normalisation (r_t does not tend to 1)."""

    def step(m, v, t, b1, b2, eps, threshold):
        rho, _ = _rho(t, b2)
        m_hat = m / (1 - b1**t)
        r = jnp.sqrt(jnp.maximum((rho - 4) * (rho - 2) / rho, 0.0))
        return jnp.where(rho >= threshold, r * m_hat / (jnp.sqrt(v / (1 - b2**t)) + eps), m_hat)

    return _radam(learning_rate, b1, b2, eps, threshold, step=step)


def v_not_bias_corrected(learning_rate, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    """BUG (bias-correction): rectified step r m_hat/(sqrt(v) + eps), the sqrt(1 - b2^t) factor forgotten."""

    def step(m, v, t, b1, b2, eps, threshold):
        rho, rho_inf = _rho(t, b2)
        m_hat = m / (1 - b1**t)
        return jnp.where(rho >= threshold, _r(rho, rho_inf) * m_hat / (jnp.sqrt(v) + eps), m_hat)

    return _radam(learning_rate, b1, b2, eps, threshold, step=step)


def adam_before_threshold(learning_rate, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    """BUG (rectification): plain Adam steps m_hat/(sqrt(v_hat) + eps) before the threshold instead of m_hat."""

    def step(m, v, t, b1, b2, eps, threshold):
        rho, rho_inf = _rho(t, b2)
        m_hat = m / (1 - b1**t)
        adam = m_hat / (jnp.sqrt(v / (1 - b2**t)) + eps)
        return jnp.where(rho >= threshold, _r(rho, rho_inf) * adam, adam)

    return _radam(learning_rate, b1, b2, eps, threshold, step=step)
