"""PyTorch optimizers as they are: any ``torch.optim.Optimizer`` subclass, no wrapper.

``--optim=torch.optim:Adam --optim-reference=adam`` (or a class from pytorch_optimizer, timm, a
user's module) is recognised by :func:`is_torch_optimizer` and driven step by step: tensors in
the leaf's dtype (float64 stays float64; float32, float16 and bfloat16 run in float32, the
parameter rounded back to its own dtype after each step), ``.grad`` set, ``step()`` called, the
learning rate of a schedule set in every param group before each step. The spec's keyword names
reach the constructor through the record's ``frameworks["torch"]`` map (``learning_rate -> lr``,
``(b1, b2) -> betas``, ``decay -> alpha``; ``nesterov=True`` for the nesterov spec); extra
settings (``--optim-kwargs='{"foreach": true}'``) pass through as given. The updates are
observed in the parameters (new - old), as for every in-place optimizer, and judged there.

torch is imported only when the user's module has imported it already (a torch class can only
come from there), so nothing here loads torch for a JAX candidate.
"""

from __future__ import annotations

import inspect
import sys
from functools import partial
from typing import Any

from pytest_optim.candidates.numpy_style import NumpyFactory, numpy_optimizer
from pytest_optim.outcomes import UsageError

_LR_ONLY = {"learning_rate": "lr"}  # a spec without a torch map: lr renamed, the rest as given


def is_torch_optimizer(obj: Any) -> bool:
    """A class derived from torch.optim.Optimizer (decided without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and inspect.isclass(obj) and issubclass(obj, torch.optim.Optimizer)


class TorchStep:
    """``step(params, grads)`` on lists of NumPy arrays, done by a torch optimizer in place."""

    def __init__(self, optimizer_cls, lr, **settings):
        self.optimizer_cls, self.lr, self.settings = optimizer_cls, lr, settings
        self.opt, self.count = None, 0

    def step(self, params, grads):
        import numpy as np
        import torch

        if self.opt is None:  # built at the first step, when the shapes and dtypes are known
            dtypes = [torch.float64 if p.dtype == np.float64 else torch.float32 for p in params]
            self.tensors = [torch.zeros(p.shape, dtype=d) for p, d in zip(params, dtypes)]
            self.opt = self.optimizer_cls(self.tensors, lr=0.0, **self.settings)
        for group in self.opt.param_groups:  # a schedule is a function of the 0-based step count
            group["lr"] = self.lr(self.count) if callable(self.lr) else self.lr
        self.count += 1
        with torch.no_grad():
            for t, p, g in zip(self.tensors, params, grads):
                t.copy_(torch.from_numpy(np.asarray(p, t.numpy().dtype)))
                t.grad = torch.from_numpy(np.array(g, t.numpy().dtype))
        self.opt.step()
        for p, t in zip(params, self.tensors):
            p[...] = t.detach().numpy()  # in place, rounded to p's dtype


def torch_factory(label: str, optimizer_cls: type, spec, settings: dict[str, Any]) -> NumpyFactory:
    """The factory with optax's keyword names that drives ``optimizer_cls`` for ``spec``.

    ``UsageError`` (before anything runs) when the constructor cannot take a keyword the spec's
    name map or ``settings`` passes.
    """
    names = spec.frameworks.get("torch")
    rename = dict(names.names) if names is not None else dict(_LR_ONLY)
    fixed = dict(names.fixed) if names is not None else {}
    factory = numpy_optimizer(partial(TorchStep, optimizer_cls, **fixed), rename=rename)  # settings: Candidate.make
    passed = [*factory.keywords(spec.hyperparameters), *fixed, *settings]
    _check_constructor(label, optimizer_cls, spec, [k for k in passed if k != "lr"])
    _first_step(label, optimizer_cls, factory, spec, settings)
    return factory


def _first_step(label: str, optimizer_cls: type, factory: NumpyFactory, spec, settings: dict[str, Any]) -> None:
    """One step on three float32 numbers, so a class that cannot step at all is one start-up error."""
    import numpy as np

    transform = factory(learning_rate=1e-3, **spec.defaults, **settings)
    try:
        transform.cls(**transform.kwargs).step([np.zeros(3, np.float32)], [np.array([1.0, -2.0, 0.5], np.float32)])
    except Exception as exc:  # noqa: BLE001 - the user's class is arbitrary code
        raise UsageError(
            f"--optim={label}: one step of {optimizer_cls.__module__}.{optimizer_cls.__qualname__} with the "
            f"{spec.name} spec's defaults on 3 float32 parameters raised {type(exc).__name__}: {exc}"
        ) from None


def _check_constructor(label: str, optimizer_cls: type, spec, keywords: list[str]) -> None:
    try:
        parameters = inspect.signature(optimizer_cls).parameters
    except (TypeError, ValueError):
        return  # no readable signature: the first step will tell
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    missing = [k for k in keywords if k not in parameters]
    if missing:
        where = ("the record's torch name map" if spec.frameworks.get("torch") is not None
                 else f"the {spec.name} spec's keyword names (it has no torch name map)")
        raise UsageError(
            f"--optim={label}: {optimizer_cls.__module__}.{optimizer_cls.__qualname__} takes no "
            f"{', '.join(repr(k) for k in missing)} (it takes {', '.join(p for p in parameters if p != 'params')}); "
            f"the harness passes {', '.join(keywords)} from {where} and --optim-kwargs. Check that this class "
            f"implements {spec.name}, or wrap it with pytest_optim.numpy_optimizer and your own rename"
        )
