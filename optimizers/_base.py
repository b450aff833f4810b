"""Shared pieces of the bundled optimizers: the transform type and small pure helpers.

Every bundled optimizer is a pair of pure functions closed over its hyperparameters, in the
style of optax: ``init(params) -> state`` and ``update(grads, state, params=None) ->
(updates, new_state)``. Updates are *added* to the parameters (``optax.apply_updates`` works).

Arithmetic happens in ``compute_dtype(leaf)``: float64 leaves stay float64, anything narrower
(bfloat16, float16) is computed and accumulated in float32 and the update is cast back to the
leaf's dtype, so low-precision parameters keep their dtype without their optimizer statistics
rounding to nothing (0.999 is 1.0 in bfloat16).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

Params = Any
Schedule = Callable[[jax.Array], jax.Array]
ScalarOrSchedule = float | jax.Array | Schedule


class GradientTransformation(NamedTuple):
    """An optimizer: ``init(params) -> state``, ``update(grads, state, params) -> (updates, state)``."""

    init: Callable[[Params], Any]
    update: Callable[..., tuple[Params, Any]]


def compute_dtype(x: jax.Array) -> jnp.dtype:
    """float64 for float64 leaves, float32 for float32 and anything narrower."""
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def zeros_like_compute(params: Params, fill: float = 0.0) -> Params:
    """A pytree shaped like ``params`` filled with ``fill``, in each leaf's compute dtype."""
    # full_like (not full) keeps each leaf's sharding, so the state lives where its parameter lives
    return jax.tree.map(lambda p: jnp.full_like(p, fill, dtype=compute_dtype(p)), params)


def learning_rate_at(learning_rate: ScalarOrSchedule, count: jax.Array) -> jax.Array:
    """The learning rate for the step whose zero-based index is ``count``.

    A schedule is called with the number of updates already made (0 on the first step),
    as optax does; floats, arrays and traced values are returned unchanged.
    """
    if callable(learning_rate):
        return learning_rate(count)
    return learning_rate


def bias_correction_factor(beta: float | jax.Array, count: jax.Array, dtype) -> jax.Array:
    """``1 - beta**count`` evaluated in ``dtype`` (count is the 1-based step number)."""
    beta = jnp.asarray(beta, dtype)
    return 1 - beta ** count.astype(dtype)


def scale_and_cast(updates_compute: Params, grads: Params, factor: jax.Array) -> Params:
    """``-factor * u`` per leaf, cast back to the dtype of the matching gradient leaf."""
    return jax.tree.map(
        lambda u, g: (-jnp.asarray(factor, u.dtype) * u).astype(jnp.result_type(g)),
        updates_compute,
        grads,
    )


def increment(count: jax.Array) -> jax.Array:
    """Step counter + 1, saturating instead of wrapping at the int32 limit."""
    return jnp.where(count < jnp.iinfo(jnp.int32).max, count + 1, count)


def abs_sq(x: jax.Array) -> jax.Array:
    """|x|^2: x * x for real x, x * conj(x) (real) for complex x, as optax's second moments.

    For real inputs it is the same program as x * x (conj and real are no-ops)."""
    return (jnp.conj(x) * x).real if jnp.iscomplexobj(x) else x * x


def as_compute(grads: Params) -> Params:
    """Each gradient leaf cast to its compute dtype."""
    return jax.tree.map(lambda g: jnp.asarray(g).astype(compute_dtype(g)), grads)
