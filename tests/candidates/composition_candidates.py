"""Adams written the way people write them, for the composition checks (conformance/composition.py).

Correct: ``adam`` (a plain dict-state Adam, |g|^2 for complex gradients, as optax.numerics.abs_sq).
Each of the others has one defect that a composition check must catch:

* ``adam_python_counter``: the step count lives in a Python list in the closure, not in the state:
  a checkpoint restored into a fresh transform resumes at t = 1 (checkpoint fails);
* ``adam_object_state``: the state carries the hyperparameters as a Python object, which no
  checkpoint stores (checkpoint fails);
* ``adam_float_hparams``: hyperparameters read with float() at build time: inject_hyperparams under
  jit hands it tracers (inject_hyperparams: not supported);
* ``adam_array_fallback``: a hyperparameter that is not a Python number silently falls back to the
  default: inject_hyperparams accepts it and computes other numbers (inject_hyperparams fails);
* ``adam_lazy_state``: the moments are created at the first update (init returns None for them):
  the state changes structure, which MultiSteps' lax.cond cannot take (multi_steps fails);
* ``adam_dict_recursion``: maps over the tree by hand (dicts recursed, everything else an array),
  so optax.MaskedNode, which multi_transform puts at the frozen leaves, crashes it (frozen fails);
* ``adam_rsqrt``: m * rsqrt(v) without eps: a leaf whose gradient is always 0 gets 0 * inf = NaN
  (frozen: zero-gradient leaves fail);
* ``adam_complex_gsq``: v from g * g, not |g|^2: code for real parameters that never extended the
  rule to complex ones (complex statistics, the update loses its phase): "not supported"
* ``adam_real_part_sq``: v from Re(g)^2: in the gradient's phase, wrong modulus: fails
  (complex fails).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class Transform(NamedTuple):
    init: callable
    update: callable


def _abs_sq(g):
    return (jnp.conj(g) * g).real


def _adam(learning_rate, b1, b2, eps, square=_abs_sq):
    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return {"t": jnp.zeros([], jnp.int32), "m": zeros, "v": zeros}

    def update(grads, state, params=None):
        t = state["t"] + 1
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * square(g), state["v"], grads)
        tf = t.astype(jnp.result_type(float))
        c1, c2 = 1 - b1 ** tf, 1 - b2 ** tf
        upd = jax.tree.map(lambda m, v, g: (-learning_rate * (m / c1) / (jnp.sqrt(v / c2) + eps)).astype(g.dtype),
                           m, v, grads)
        return upd, {"t": t, "m": m, "v": v}

    return Transform(init, update)


def adam(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    return _adam(learning_rate, b1, b2, eps)


def adam_complex_gsq(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    return _adam(learning_rate, b1, b2, eps, square=lambda g: g * g)


def adam_real_part_sq(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """v from Re(g)^2: the modulus convention half-ported (the imaginary part dropped from |g|^2)."""
    return _adam(learning_rate, b1, b2, eps, square=lambda g: jnp.real(g) ** 2)


def adam_python_counter(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    step = [0]  # "the optimizer knows its own step"

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return {"m": zeros, "v": zeros}

    def update(grads, state, params=None):
        step[0] += 1
        t = step[0]
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * _abs_sq(g), state["v"], grads)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        upd = jax.tree.map(lambda m, v, g: (-learning_rate * (m / c1) / (jnp.sqrt(v / c2) + eps)).astype(g.dtype),
                           m, v, grads)
        return upd, {"m": m, "v": v}

    return Transform(init, update)


class HParams:
    """The configuration, kept with the state "so it travels with it"."""

    def __init__(self, lr, b1, b2, eps):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps


def adam_object_state(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    inner = _adam(learning_rate, b1, b2, eps)

    def init(params):
        return {**inner.init(params), "config": HParams(learning_rate, b1, b2, eps)}

    def update(grads, state, params=None):
        config = state["config"]
        u, s = inner.update(grads, {k: v for k, v in state.items() if k != "config"}, params)
        return u, {**s, "config": config}

    return Transform(init, update)


def adam_float_hparams(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    return _adam(float(learning_rate), float(b1), float(b2), float(eps))


def adam_array_fallback(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    def number(x, default):
        return x if isinstance(x, (int, float)) else default  # "validate" the hyperparameter

    return _adam(learning_rate, number(b1, 0.9), number(b2, 0.999), eps)


def adam_lazy_state(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    inner = _adam(learning_rate, b1, b2, eps)

    def init(params):
        return {"t": jnp.zeros([], jnp.int32), "m": None, "v": None}  # created at the first step

    def update(grads, state, params=None):
        if state["m"] is None:
            zeros = jax.tree.map(jnp.zeros_like, grads)
            state = {"t": state["t"], "m": zeros, "v": zeros}
        return inner.update(grads, state, params)

    return Transform(init, update)


def _map(f, *trees):
    if isinstance(trees[0], dict):
        return {k: _map(f, *(t[k] for t in trees)) for k in trees[0]}
    return f(*trees)


def adam_dict_recursion(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    def init(params):
        zeros = _map(lambda p: p * 0, params)
        return {"t": jnp.zeros([], jnp.int32), "m": zeros, "v": zeros}

    def update(grads, state, params=None):
        t = state["t"] + 1
        m = _map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        v = _map(lambda v, g: b2 * v + (1 - b2) * _abs_sq(g), state["v"], grads)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        upd = _map(lambda m, v, g: (-learning_rate * (m / c1) / (jnp.sqrt(v / c2) + eps)).astype(g.dtype),
                   m, v, grads)
        return upd, {"t": t, "m": m, "v": v}

    return Transform(init, update)


def adam_rsqrt(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return {"t": jnp.zeros([], jnp.int32), "m": zeros, "v": zeros}

    def update(grads, state, params=None):
        t = state["t"] + 1
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * _abs_sq(g), state["v"], grads)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        # rsqrt is one instruction; eps only matters "when v is tiny"
        upd = jax.tree.map(lambda m, v, g: (-learning_rate * (m / c1) * jax.lax.rsqrt(v / c2)).astype(g.dtype),
                           m, v, grads)
        return upd, {"t": t, "m": m, "v": v}

    return Transform(init, update)
