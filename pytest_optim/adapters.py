"""Adapters that present other optimizer styles through the init/update contract.

``numpy_optimizer`` wraps a NumPy-style optimizer (a class holding its moments as attributes
and updating a list of arrays in place, as in from-scratch notebooks) so the suites can check
it. Its state is a private copy of the object; ``update`` deep-copies it before stepping, so
the wrapped candidate is pure from the harness's point of view. NumPy code cannot be traced:
jit/vmap/scan checks report "not applicable" for it, never "failed".

    # mymodule.py
    from pytest_optim.adapters import numpy_optimizer
    adam = numpy_optimizer(MyAdam, rename={"learning_rate": "lr", "b1": "beta1", "b2": "beta2"})

    pytest --optim=mymodule:adam --optim-reference=adam
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class NumpyFactory:
    """A factory built by :func:`numpy_optimizer`; the harness recognises it as untraceable."""

    cls: Callable[..., Any]
    rename: dict[str, str]
    method: str

    def __call__(self, **hyperparameters):
        # NumPy code expects plain numbers: `p -= jax_array` would silently leave p unchanged
        kwargs = {self.rename.get(k, k): _plain(v) for k, v in hyperparameters.items()}
        return _NumpyTransform(self.cls, kwargs, self.method)


def _plain(value):
    """jnp/np scalars -> Python floats; schedules -> a function of the step returning a float."""
    if callable(value):
        return lambda count: float(value(count))
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


class _OpaqueState:
    """Holds the NumPy optimizer object; not a pytree, so JAX never looks inside."""

    def __init__(self, obj):
        self.obj = obj


@dataclass(frozen=True)
class _NumpyTransform:
    cls: Callable[..., Any]
    kwargs: dict[str, Any]
    method: str

    def init(self, params):
        del params
        return _OpaqueState(self.cls(**self.kwargs))

    def update(self, grads, state, params=None):
        import jax
        import numpy as np

        if params is None:
            raise ValueError("a NumPy-style optimizer needs params to compute its update")
        leaves, treedef = jax.tree.flatten(params)
        grad_leaves = treedef.flatten_up_to(grads)
        obj = copy.deepcopy(state.obj)
        # The class only hands back new parameters, and new - old loses the bits of |p| that the
        # update does not have (|p|/|update| can be 100). In extended precision (np.longdouble,
        # 64-bit mantissa on x86) that loss stays far below float64 rounding.
        old = [np.asarray(p).astype(np.longdouble) for p in leaves]
        new = [x.copy() for x in old]
        result = getattr(obj, self.method)(new, [np.asarray(g) for g in grad_leaves])
        if result is not None:  # an update(params, grads) -> new_params style
            new = list(result)
        updates = [
            (np.asarray(n, np.longdouble) - o).astype(np.asarray(g).dtype)
            for n, o, g in zip(new, old, grad_leaves)
        ]
        return jax.tree.unflatten(treedef, updates), _OpaqueState(obj)


def numpy_optimizer(
    cls: Callable[..., Any], rename: dict[str, str] | None = None, method: str = "step"
) -> NumpyFactory:
    """Wrap a NumPy-style optimizer class as a factory with optax's keyword names.

    ``cls(**hyperparameters)`` builds the optimizer (``rename`` maps optax's names to the
    class's, e.g. ``{"learning_rate": "lr"}``); ``getattr(obj, method)(params, grads)`` either
    updates the list of arrays ``params`` in place or returns the new list.
    """
    return NumpyFactory(cls=cls, rename=dict(rename or {}), method=method)
