"""Keras 3 optimizers as they are: any ``keras.optimizers.Optimizer`` subclass, no wrapper.

``--optim=keras.optimizers:Adam --optim-reference=adam`` is recognised by
:func:`is_keras_optimizer` and driven on the JAX backend through Keras's own
``stateless_apply(optimizer_variables, grads, trainable_variables)``, so it stays a pure, traceable
transformation (the jit / vmap / scan checks apply): ``init`` builds the optimizer on variables
shaped like the parameters and returns its variables (iteration count, learning rate, slots) as
the state; ``update`` applies one step and returns new - old parameters. The spec's keyword names
reach the constructor through the record's ``frameworks["keras"]`` map (``b1 -> beta_1``,
``eps -> epsilon``, ``decay -> rho``); a schedule becomes a ``LearningRateSchedule`` (Keras calls
it with the 0-based iteration count, as optax does).

Keras must run on the JAX backend: ``KERAS_BACKEND`` is set to ``jax`` before the user's module
is imported unless it is already set or Keras is already loaded (see ``prefer_jax_backend``).
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import Any

from pytest_optim.outcomes import UsageError


def prefer_jax_backend() -> None:
    """Before importing a user's module: Keras, if it gets imported, starts on the JAX backend."""
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "jax")


def is_keras_optimizer(obj: Any) -> bool:
    """A class derived from keras.optimizers.Optimizer (decided without importing Keras)."""
    keras = sys.modules.get("keras")
    return keras is not None and inspect.isclass(obj) and issubclass(obj, keras.optimizers.Optimizer)


class KerasTransform:
    """init/update around one Keras optimizer class and its constructor keywords."""

    def __init__(self, optimizer_cls, kwargs: dict[str, Any]):
        self.optimizer_cls, self.kwargs = optimizer_cls, kwargs
        self._optimizers: dict = {}

    def _built(self, leaves):
        """The optimizer built for these leaves' shapes and dtypes, once: ``stateless_apply`` takes
        the state as an argument and leaves the object as it was, so one serves every step (an
        eager trajectory would otherwise build a new optimizer, and its variables, per step)."""
        key = tuple((tuple(x.shape), str(x.dtype)) for x in leaves)
        if key not in self._optimizers:
            self._optimizers[key] = self._build(leaves)
        return self._optimizers[key]

    def _build(self, leaves):
        import keras

        kwargs = dict(self.kwargs)
        lr = kwargs.get("learning_rate")
        if callable(lr):
            kwargs["learning_rate"] = _schedule(keras, lr)
        # Keras keeps its scalars (learning rate, iteration-dependent factors) in floatx: float64 where
        # a leaf is float64, as a float64 Keras user sets keras.config.set_floatx("float64")
        floatx = keras.config.floatx()
        if any(str(x.dtype) == "float64" for x in leaves):
            keras.config.set_floatx("float64")
        try:
            optimizer = self.optimizer_cls(**kwargs)
            variables = [keras.Variable(initializer="zeros", shape=x.shape, dtype=x.dtype, trainable=True)
                         for x in leaves]
            optimizer.build(variables)
        finally:
            keras.config.set_floatx(floatx)
        return optimizer

    def init(self, params):
        import jax

        return [v.value for v in self._built(jax.tree.leaves(params)).variables]

    def update(self, grads, state, params=None):
        import jax

        if params is None:
            raise ValueError("a Keras optimizer needs params: it updates the variables themselves")
        leaves, treedef = jax.tree.flatten(params)
        new, new_state = self._built(leaves).stateless_apply(list(state), treedef.flatten_up_to(grads), leaves)
        updates = [(n - p).astype(p.dtype) for n, p in zip(new, leaves)]
        return jax.tree.unflatten(treedef, updates), list(new_state)


def _schedule(keras, fn):
    class Schedule(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return fn(step)

    return Schedule()


class KerasFactory:
    """``factory(learning_rate=..., b1=..., ...)`` -> a :class:`KerasTransform`, optax names in."""

    def __init__(self, optimizer_cls, names, fixed):
        self.optimizer_cls, self.names, self.fixed = optimizer_cls, dict(names), dict(fixed)

    def keywords(self, hp: dict[str, Any]) -> dict[str, Any]:
        out = dict(self.fixed)
        for name, value in hp.items():
            target = self.names.get(name, name)
            if target is not None:
                out[target] = value
        return out

    def __call__(self, **hp):
        return KerasTransform(self.optimizer_cls, self.keywords(hp))


def keras_factory(label: str, optimizer_cls: type, spec, settings: dict[str, Any]) -> KerasFactory:
    """The factory with optax's keyword names that drives ``optimizer_cls`` for ``spec``."""
    import keras

    if keras.backend.backend() != "jax":
        raise UsageError(
            f"--optim={label}: Keras runs on the {keras.backend.backend()!r} backend; pytest-optim drives Keras "
            "optimizers through JAX: set KERAS_BACKEND=jax (or leave it unset) before Keras is imported")
    names = spec.frameworks.get("keras")
    factory = KerasFactory(optimizer_cls, names.names if names is not None else {}, names.fixed if names else {})
    passed = [*factory.keywords({k: 0.0 for k in spec.hyperparameters}), *settings]
    parameters = inspect.signature(optimizer_cls).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        missing = [k for k in passed if k not in parameters]
        if missing:
            raise UsageError(
                f"--optim={label}: {optimizer_cls.__module__}.{optimizer_cls.__qualname__} takes no "
                f"{', '.join(repr(k) for k in missing)}; the harness passes {', '.join(passed)} from the "
                f"{spec.name} record's keras names and --optim-kwargs")
    try:  # one build, so a class that rejects a keyword is one start-up error
        import numpy as np

        factory(learning_rate=1e-3, **spec.defaults, **settings)._built([np.zeros(3, np.float32)])
    except Exception as exc:  # noqa: BLE001 - the user's class is arbitrary code
        raise UsageError(
            f"--optim={label}: building {optimizer_cls.__module__}.{optimizer_cls.__qualname__} with the "
            f"{spec.name} spec's defaults ({', '.join(passed)}) raised {type(exc).__name__}: {exc}") from None
    return factory
