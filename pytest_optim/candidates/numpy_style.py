"""Adapters that present other optimizer styles through the init/update contract.

``numpy_optimizer`` wraps a NumPy-style optimizer (a class holding its moments as attributes
and updating a list of arrays in place, as in from-scratch notebooks) so the suites can check
it. Its state is a private copy of the object; ``update`` snapshots it (:func:`snapshot`, a deep
copy of every attribute) before stepping, so the wrapped candidate is pure from the harness's
point of view. NumPy code cannot be traced: the jit/vmap/scan capabilities are reported "not
supported" for it (a failure only where --optim-require asks for them). Its updates are seen as
new - old parameters and are judged in the parameters (pytest_optim.conformance.compare.judge).

    # mymodule.py
    from pytest_optim import numpy_optimizer
    adam = numpy_optimizer(MyAdam, rename={"learning_rate": "lr", "b1": "beta1", "b2": "beta2"})
    torch_adam = numpy_optimizer(TorchStep, rename={"learning_rate": "lr", ("b1", "b2"): "betas"})

    pytest --optim=mymodule:adam --optim-reference=adam
"""

from __future__ import annotations

import copy
import types
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Union

# rename's keys: an optax keyword, or a tuple of them gathered into one tuple argument; its values:
# the constructor's keyword, or None to drop the hyperparameter
RenameKey = Union[str, tuple]
Rename = dict[RenameKey, Union[str, None]]


@dataclass(frozen=True)
class NumpyFactory:
    """A factory built by :func:`numpy_optimizer`; the harness recognises it as untraceable."""

    cls: Callable[..., Any]
    rename: Rename
    method: str

    def __post_init__(self):
        owner: dict[str, RenameKey] = {}
        targets: dict[str, RenameKey] = {}
        for key, target in self.rename.items():
            sources = _sources(key)
            if not sources or not all(isinstance(s, str) for s in sources):
                raise TypeError(
                    f"numpy_optimizer rename key {key!r}: expected an optax keyword (a str) or a "
                    "non-empty tuple of them, e.g. {('b1', 'b2'): 'betas'}"
                )
            if target is not None and not isinstance(target, str):
                raise TypeError(
                    f"numpy_optimizer rename[{key!r}] = {target!r}: expected the constructor's keyword "
                    "(a str), or None to drop the hyperparameter"
                )
            for s in sources:
                if s in owner:
                    raise ValueError(f"numpy_optimizer rename: {s!r} appears in both {owner[s]!r} and {key!r}")
                owner[s] = key
            if target is not None:
                if target in targets:
                    raise ValueError(
                        f"numpy_optimizer rename: {targets[target]!r} and {key!r} both map to {target!r}"
                    )
                targets[target] = key

    def keywords(self, names: Iterable[str]) -> dict[str, RenameKey]:
        """The constructor keywords a call with the optax keywords ``names`` passes, in order.

        Each maps to where its value comes from: an optax name, or a tuple of them gathered into
        one tuple argument. Names renamed to None are left out. ``TypeError`` when ``names`` has
        only part of a gathered tuple, or when two of them would land on the same keyword.
        """
        names = tuple(names)
        owner = {s: key for key in self.rename for s in _sources(key)}
        out: dict[str, RenameKey] = {}
        for name in names:
            key = owner.get(name, name)
            target = self.rename[key] if name in owner else name
            if target is None:
                continue
            if isinstance(key, tuple):
                absent = [s for s in key if s not in names]
                if absent:
                    raise TypeError(
                        f"rename gathers {key!r} into {target!r}, but {', '.join(absent)} "
                        f"{'is' if len(absent) == 1 else 'are'} not among the hyperparameters passed "
                        f"({', '.join(names)})"
                    )
            if target in out:
                if out[target] == key:
                    continue  # the second member of a tuple already gathered
                raise TypeError(f"rename makes both {out[target]!r} and {key!r} the keyword {target!r}")
            out[target] = key
        return out

    def __call__(self, **hyperparameters):
        # NumPy code expects plain numbers: `p -= jax_array` would silently leave p unchanged
        kwargs = {
            target: tuple(_plain(hyperparameters[s]) for s in key) if isinstance(key, tuple)
            else _plain(hyperparameters[key])
            for target, key in self.keywords(hyperparameters).items()
        }
        return _NumpyTransform(self.cls, kwargs, self.method)


def _sources(key: RenameKey) -> tuple:
    return key if isinstance(key, tuple) else (key,)


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
        """Pure: steps a copy of the state's object (``snapshot``), so ``state`` can be used again."""
        return self._step(grads, snapshot(state.obj), params)

    def update_consuming(self, grads, state, params=None):
        """``update`` for a caller that never passes ``state`` again (a trajectory, a replay): the
        object steps in place, as in the user's own training loop, without the per-step copy
        (which costs more than a torch optimizer's step)."""
        return self._step(grads, state.obj, params)

    def _step(self, grads, obj, params):
        import jax
        import numpy as np

        if params is None:
            raise ValueError("a NumPy-style optimizer needs params to compute its update")
        leaves, treedef = jax.tree.flatten(params)
        grad_leaves = [np.asarray(g) for g in treedef.flatten_up_to(grads)]  # read-only views
        # Writable copies in the gradient's dtype (np.float32, np.float64, ml_dtypes.bfloat16, ...).
        old = [np.array(p, dtype=g.dtype) for p, g in zip(leaves, grad_leaves)]
        new = [x.copy() for x in old]
        result = getattr(obj, self.method)(new, grad_leaves)
        if result is not None:  # an update(params, grads) -> new_params style
            new = list(result)
            if len(new) != len(old):
                raise ValueError(f"{self.method}() returned {len(new)} arrays for {len(old)} parameters")
        updates = []
        for i, (n, o) in enumerate(zip(new, old)):
            n = np.asarray(n)
            if n.shape != o.shape:
                raise ValueError(f"{self.method}() gave parameter {i} shape {n.shape}, expected {o.shape}")
            # new - old, exactly. Both are values of the gradient's dtype d. Their exact difference is
            # a multiple of the finer of the two ulps and below 2 max(|new|, |old|), so it needs at
            # most (d's significand bits) + (the exponents' gap) + 1 bits: float64 holds it exactly
            # for bfloat16/float16/float32 unless |new| and |old| are 2^28 or more apart (then it
            # rounds once, by 2^-53 relative). The cast back to d is exact whenever new and old are
            # within a factor 2 of each other (Sterbenz), i.e. for any step smaller than half the
            # parameter; a larger step (or one through zero) rounds the update once to d, as any
            # update in d is rounded. For float64 leaves the subtraction itself is that one rounding.
            # The harness's comparison accounts for the parameters' own rounding; nothing to undo here.
            updates.append((n.astype(np.float64) - o.astype(np.float64)).astype(o.dtype))
        return jax.tree.unflatten(treedef, updates), _OpaqueState(obj)


def numpy_optimizer(
    cls: Callable[..., Any], rename: Rename | None = None, method: str = "step"
) -> NumpyFactory:
    """Wrap a NumPy-style optimizer class as a factory with optax's keyword names.

    ``cls(**hyperparameters)`` builds the optimizer. ``rename`` maps optax's names to the
    class's: ``{"learning_rate": "lr"}`` renames, a tuple key gathers several into one tuple
    argument (``{("b1", "b2"): "betas"}`` passes ``betas=(b1, b2)``), and ``None`` drops a
    hyperparameter the class does not have (``{"eps": None}``). ``getattr(obj, method)(params,
    grads)`` either updates the list of arrays ``params`` (writable copies in the gradients'
    dtype) in place or returns the new list.
    """
    return NumpyFactory(cls=cls, rename=dict(rename or {}), method=method)


# -- snapshots -----------------------------------------------------------------------------------


def snapshot(obj: Any) -> Any:
    """A deep copy that copies every object's full attributes (``__dict__`` and ``__slots__``).

    ``copy.deepcopy`` rebuilds an object from its ``__getstate__``, which may be partial: every
    ``torch.optim.Optimizer`` returns only ``defaults``, ``state`` and ``param_groups``, so the
    attributes a subclass sets in ``__init__`` are lost. Here containers (dict and its subclasses,
    list, tuple, set) and plain objects (a class that keeps pickle's default ``__reduce__``) are
    walked, and everything else (arrays, tensors, numbers, functions, objects with their own
    ``__deepcopy__`` or ``__reduce__``) is left to ``copy.deepcopy(x, memo)``. One memo serves the
    whole copy, so an object reachable along several paths (torch's ``state`` keyed by the
    parameter tensors that are also in ``param_groups[i]["params"]``) is one object in the copy.
    Modules and bound methods' functions are shared; ``__setstate__`` is not called.
    """
    return _snap(obj, {})


def _remember(x, y, memo: dict) -> None:
    memo[id(x)] = y
    memo.setdefault(id(memo), []).append(x)  # keep x alive so its id is not reused (as copy does)


def _snap(x: Any, memo: dict) -> Any:
    found = memo.get(id(x), memo)
    if found is not memo:
        return found
    cls = type(x)
    if isinstance(x, (types.ModuleType, type)):
        return x
    if isinstance(x, types.MethodType):  # e.g. a bound method stored as an attribute
        y = types.MethodType(x.__func__, _snap(x.__self__, memo))
        _remember(x, y, memo)
        return y
    if getattr(cls, "__deepcopy__", None) is not None:  # ndarray, torch.Tensor, jax.Array, ...
        return copy.deepcopy(x, memo)
    if isinstance(x, dict):
        y = {} if cls is dict else copy.copy(x)  # a subclass keeps its type and e.g. default_factory
        _remember(x, y, memo)
        items = [(_snap(k, memo), _snap(v, memo)) for k, v in x.items()]
        y.clear()
        y.update(items)
        if cls is not dict:
            _copy_attributes(x, y, memo)
        return y
    if isinstance(x, list):
        y = [] if cls is list else copy.copy(x)
        _remember(x, y, memo)
        y[:] = [_snap(v, memo) for v in x]
        if cls is not list:
            _copy_attributes(x, y, memo)
        return y
    if isinstance(x, set):
        y = set() if cls is set else copy.copy(x)
        _remember(x, y, memo)
        items = [_snap(v, memo) for v in x]
        y.clear()
        y.update(items)
        if cls is not set:
            _copy_attributes(x, y, memo)
        return y
    if isinstance(x, (tuple, frozenset)):
        items = [_snap(v, memo) for v in x]
        found = memo.get(id(x), memo)
        if found is not memo:  # reached again through its own items (a cycle via a mutable)
            return found
        if all(a is b for a, b in zip(items, x)):
            y = x
        elif hasattr(cls, "_fields"):  # a namedtuple
            y = cls(*items)
        else:
            y = cls(items)
        _remember(x, y, memo)
        return y
    if _plain_object(x):
        args = x.__getnewargs__() if hasattr(x, "__getnewargs__") else ()
        y = cls.__new__(cls, *_snap(tuple(args), memo))
        _remember(x, y, memo)
        _copy_attributes(x, y, memo)
        return y
    return copy.deepcopy(x, memo)


_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement (not function, code, ...)


def _plain_object(x: Any) -> bool:
    """An instance of a class statement's class that pickle would rebuild as cls.__new__(cls) + attributes."""
    cls = type(x)
    if not cls.__flags__ & _HEAPTYPE:
        return False
    if cls.__reduce_ex__ is not object.__reduce_ex__ or cls.__reduce__ is not object.__reduce__:
        return False
    if hasattr(x, "__getnewargs_ex__"):
        return False  # keyword arguments to __new__: leave it to deepcopy
    return isinstance(getattr(x, "__dict__", None), dict) or bool(_slot_descriptors(cls))


def _slot_descriptors(cls: type) -> list:
    out = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{klass.__name__.lstrip('_')}{name}"  # private names are mangled
            descriptor = klass.__dict__.get(name)
            if descriptor is not None and hasattr(descriptor, "__get__"):
                out.append((klass, descriptor))
    return out


def _copy_attributes(x: Any, y: Any, memo: dict) -> None:
    """Every attribute of x, copied into y, bypassing __getstate__/__setstate__/__setattr__."""
    attributes = getattr(x, "__dict__", None)
    if isinstance(attributes, dict):
        y.__dict__.update({k: _snap(v, memo) for k, v in attributes.items()})
    for klass, descriptor in _slot_descriptors(type(x)):
        try:
            value = descriptor.__get__(x, klass)
        except AttributeError:  # an unset slot stays unset
            continue
        descriptor.__set__(y, _snap(value, memo))
