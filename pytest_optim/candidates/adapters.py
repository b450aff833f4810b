"""Adapters: how an optimizer of another framework becomes a candidate, one protocol for all.

An :class:`Adapter` says which objects it takes (``recognises``), turns one into a factory with
the spec's optax keyword names (``wrap``), and says what the harness may assume of what it makes:
whether JAX can trace it (``traceable``: the jit / vmap / scan / sharding checks apply) and how its
updates are seen (``observed``: returned by ``update``, or only in the parameters as new - old,
which the comparison then allows the parameters' rounding for). The NumPy-style, PyTorch and
Keras adapters are three of them (``BUILTIN``); another framework's is found through the
``pytest_optim.adapters`` entry-point group, with no change here::

    # pyproject.toml of the package that adds it
    [project.entry-points."pytest_optim.adapters"]
    mlx = "pytest_optim_mlx:ADAPTER"      # an Adapter instance

``wrap(label, obj, spec, settings)`` returns a callable ``factory(learning_rate=..., **hp)``
whose transforms have ``init(params)`` and ``update(grads, state, params)``, and raises
``pytest_optim.UsageError`` (one line, exit 4 before anything runs) when ``obj`` cannot serve
``spec``. Recognising must not import a framework the user's module has not imported already.
Entry points are read when a ``MODULE:ATTR`` candidate is loaded, never at plugin load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pytest_optim.outcomes import UsageError

GROUP = "pytest_optim.adapters"
OBSERVED = ("updates", "parameters")


@dataclass(frozen=True)
class Adapter:
    name: str  # "torch"
    style: str  # what reports call its candidates: "PyTorch"
    recognises: Callable[[Any], bool]  # obj -> whether this adapter takes it
    wrap: Callable[[str, Any, Any, dict], Callable]  # (label, obj, spec, settings) -> factory, optax names
    traceable: bool  # JAX can trace its transforms
    observed: str  # "updates" (returned exactly) or "parameters" (only as new - old)

    def __post_init__(self) -> None:
        if self.observed not in OBSERVED:
            raise ValueError(f"Adapter {self.name!r}: observed must be one of {OBSERVED}, not {self.observed!r}")


def _keras_recognises(obj) -> bool:
    from pytest_optim.candidates.keras_style import is_keras_optimizer

    return is_keras_optimizer(obj)


def _keras_wrap(label, obj, spec, settings):
    from pytest_optim.candidates.keras_style import keras_factory

    return keras_factory(label, obj, spec, settings)


def _torch_recognises(obj) -> bool:
    from pytest_optim.candidates.torch_style import is_torch_optimizer

    return is_torch_optimizer(obj)


def _torch_wrap(label, obj, spec, settings):
    from pytest_optim.candidates.torch_style import torch_factory

    return torch_factory(label, obj, spec, settings)


def _numpy_recognises(obj) -> bool:
    from pytest_optim.candidates.numpy_style import NumpyFactory

    return isinstance(obj, NumpyFactory)


def _numpy_wrap(label, obj, spec, settings):
    from pytest_optim.candidates.selection import check_numpy_constructor

    check_numpy_constructor(label, obj, spec)
    return obj


BUILTIN = (
    Adapter("keras", "Keras", _keras_recognises, _keras_wrap, traceable=True, observed="updates"),
    Adapter("torch", "PyTorch", _torch_recognises, _torch_wrap, traceable=False, observed="parameters"),
    Adapter("numpy", "NumPy-style", _numpy_recognises, _numpy_wrap, traceable=False, observed="parameters"),
)


def installed() -> tuple[Adapter, ...]:
    """The built-in adapters, then those of the ``pytest_optim.adapters`` entry points."""
    from importlib.metadata import entry_points

    found = []
    for ep in entry_points(group=GROUP):
        try:
            adapter = ep.load()
        except Exception as exc:  # noqa: BLE001 - another package's code
            raise UsageError(f"the {GROUP} entry point {ep.name} = {ep.value!r} cannot be loaded: "
                             f"{type(exc).__name__}: {exc}") from None
        if not isinstance(adapter, Adapter):
            raise UsageError(f"the {GROUP} entry point {ep.name} = {ep.value!r} is a {type(adapter).__name__}, "
                             "not a pytest_optim.Adapter")
        found.append(adapter)
    return (*BUILTIN, *found)


def find(obj: Any) -> Adapter | None:
    """The first adapter that recognises ``obj``, or None (a JAX factory or transform needs none)."""
    for adapter in installed():
        try:
            if adapter.recognises(obj):
                return adapter
        except Exception as exc:  # noqa: BLE001
            raise UsageError(f"the {adapter.name} adapter's recognises() raised {type(exc).__name__}: {exc}") from None
    return None
