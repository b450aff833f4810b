"""Correct candidates for the "adagrad" spec: r <- r + g^2 (r0 = initial_accumulator_value); p <- p - lr*g/(sqrt(r) + eps)."""

import dataclasses
from types import SimpleNamespace

import jax
import jax.numpy as jnp
from jax import lax


@jax.tree_util.register_dataclass
@dataclasses.dataclass
class AdagradState:
    count: jax.Array
    sum_of_squares: object


class Adagrad:
    """AdaGrad as a class with methods; the state is a dataclass registered as a JAX pytree."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, eps=1e-7):
        self.learning_rate = learning_rate
        self.initial_accumulator_value = initial_accumulator_value
        self.eps = eps

    def init(self, params):
        def fill(p):
            dtype = jnp.promote_types(jnp.result_type(p), jnp.float32)
            return jnp.full_like(p, self.initial_accumulator_value, dtype=dtype)

        return AdagradState(jnp.zeros([], jnp.int32), jax.tree.map(fill, params))

    def update(self, grads, state, params=None):
        del params
        lr = self.learning_rate(state.count) if callable(self.learning_rate) else self.learning_rate
        g = jax.tree.map(lambda x, r: jnp.asarray(x).astype(r.dtype), grads, state.sum_of_squares)
        r = jax.tree.map(lambda r, x: r + x * x, state.sum_of_squares, g)
        updates = jax.tree.map(
            lambda x, r, orig: (
                -jnp.asarray(lr, r.dtype) * x / (jnp.sqrt(r) + jnp.asarray(self.eps, r.dtype))
            ).astype(jnp.result_type(orig)),
            g,
            r,
            grads,
        )
        return updates, AdagradState(state.count + 1, r)


def adagrad_lax(learning_rate, initial_accumulator_value=0.1, eps=1e-7):
    """AdaGrad written with jax.lax primitives only (explicit dtypes, lax.full_like for scalars)."""

    def init(params):
        def fill(p):
            p = jnp.asarray(p)
            dtype = jnp.promote_types(p.dtype, jnp.float32)
            return lax.full_like(p, initial_accumulator_value, dtype)

        return {"t": lax.full((), 0, jnp.int32), "acc": jax.tree.map(fill, params)}

    def update(grads, state, params=None):
        del params
        lr = learning_rate(state["t"]) if callable(learning_rate) else learning_rate

        def accumulate(g, acc):
            gw = lax.convert_element_type(jnp.asarray(g), acc.dtype)
            return lax.add(acc, lax.mul(gw, gw))

        def step(g, acc):
            g = jnp.asarray(g)
            gw = lax.convert_element_type(g, acc.dtype)
            denom = lax.add(lax.sqrt(acc), lax.full_like(acc, eps))
            delta = lax.mul(lax.full_like(acc, lr), lax.div(gw, denom))
            return lax.convert_element_type(lax.neg(delta), g.dtype)

        acc = jax.tree.map(accumulate, grads, state["acc"])
        updates = jax.tree.map(step, grads, acc)
        return updates, {"t": lax.add(state["t"], lax.full((), 1, jnp.int32)), "acc": acc}

    return SimpleNamespace(init=init, update=update)
