"""Shared helper for the optax-based candidates: run an optax transform in float32 (or wider).

optax keeps its statistics in the parameter dtype, so a bare ``optax.adam`` on bfloat16 leaves
accumulates ``nu`` in bfloat16 (0.999 rounds to 1.0) and drifts several percent from the spec
within 50 steps. Wrapping it like this is what a mixed-precision training loop does.
"""

import jax
import jax.numpy as jnp
import optax


def _wide(x):
    x = jnp.asarray(x)
    return x.astype(jnp.promote_types(x.dtype, jnp.float32))


def float32_compute(tx: optax.GradientTransformation) -> optax.GradientTransformation:
    """Feed ``tx`` gradients upcast to >= float32 and cast its updates back to each gradient's dtype."""

    def init(params):
        return tx.init(jax.tree.map(_wide, params))

    def update(grads, state, params=None):
        wide_params = None if params is None else jax.tree.map(_wide, params)
        updates, state = tx.update(jax.tree.map(_wide, grads), state, wide_params)
        updates = jax.tree.map(lambda u, g: u.astype(jnp.result_type(g)), updates, grads)
        return updates, state

    return optax.GradientTransformation(init, update)
