"""What is under test: a bundled name or a third party's ``module:attr``, resolved to a Candidate.

Everything here reports problems as ``UsageError`` with one line that says what was expected
and what to do; the plugin turns it into pytest's usage-error exit (status 4).
"""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from pytest_optim.outcomes import CandidateError, NotApplicable, UsageError
from pytest_optim.specs import SPECS, Spec, names


@dataclass
class Candidate:
    """An optimizer under test: how to build it and which canonical spec it claims to follow."""

    label: str  # as given on the command line, e.g. "adam" or "mypkg.opt:adam"
    spec: Spec
    factory: Callable[..., Any] | None  # None when the user gave a ready-made transform
    instance: Any = None  # the ready-made transform, when factory is None
    bundled: bool = False
    traceable: bool = True  # False for NumPy-style candidates: jit/vmap/scan checks don't apply
    fixed_lr: float | None = None  # a ready-made transform's learning rate, inferred from its first step
    settings: dict = field(default_factory=dict)  # --optim-kwargs: extra constructor keywords, as given
    style: str = "jax"  # "jax", or the adapter's (candidates/adapters.py): "Keras", "NumPy-style", "PyTorch"
    observed: str = "updates"  # "updates" (returned), or "parameters" (seen only as new - old)

    @property
    def reference(self) -> str:
        return self.spec.name

    @property
    def is_factory(self) -> bool:
        return self.factory is not None

    def make(self, learning_rate, **hp):
        """Build the transform with the spec's defaults, overridden by ``hp``, all by keyword."""
        kwargs = {"learning_rate": learning_rate, **self.spec.defaults, **hp, **self.settings}
        if self.factory is None:
            if any(hp[k] != self.spec.defaults.get(k) for k in hp) or callable(learning_rate):
                raise NotApplicable(
                    f"{self.label} is a ready-made transform, so this check (which needs "
                    f"{_kw(hp) or 'a learning-rate schedule'}) cannot build it; pass a factory instead: "
                    f"a function taking {', '.join(self.spec.hyperparameters)} by keyword that returns it"
                )
            return self.instance
        try:
            transform = self.factory(**kwargs)
        except TypeError as exc:
            raise CandidateError(
                f"{self.label}({_kw(kwargs)}) raised TypeError: {exc}. The harness calls the factory "
                f"with the {self.spec.name} spec's hyperparameters by keyword, with optax's names "
                f"({', '.join(self.spec.hyperparameters)}).", stage="build"
            ) from exc
        except Exception as exc:  # noqa: BLE001 - any failure of user code is reported, not raised
            raise CandidateError(f"{self.label}({_kw(kwargs)}) raised {type(exc).__name__}: {exc}",
                                 stage="build") from exc
        check_transform(self.label, transform)
        return transform

    def __repr__(self) -> str:
        return f"Candidate({self.label!r} as {self.spec.name})"


def _kw(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if not callable(v)) + (
        ", learning_rate=<schedule>" if callable(kwargs.get("learning_rate")) else ""
    )


def check_transform(label: str, obj: Any) -> None:
    missing = [m for m in ("init", "update") if not callable(getattr(obj, m, None))]
    if missing:
        raise CandidateError(
            f"{label} returned {type(obj).__name__}, which has no callable {' or '.join(missing)}; "
            "expected an object with init(params) -> state and "
            "update(grads, state, params) -> (updates, state)", stage="build"
        )


def parse_selection(value: str | None, reference: str | None, settings: dict | None = None,
                    hp: dict | None = None) -> list[Candidate]:
    """Turn the --optim / --optim-reference values into candidates (UsageError when invalid).

    ``MODULE:ATTR@SPEC`` checks a third-party candidate against SPEC whatever --optim-reference
    says, so that candidates of several specs can run in one session. A reference that is itself
    ``MODULE:ATTR[@SPEC]`` is a port run: that implementation, at ``hp`` (--optim-hp), is the oracle.
    """
    if value is None or value.strip() == "":
        return []
    items = [v.strip() for v in value.split(",")]
    if any(not v for v in items):
        raise UsageError(f"--optim={value!r} has an empty name; give NAME[,NAME...] or MODULE:ATTR")
    port = reference is not None and ":" in reference
    if reference is not None and not port and reference not in SPECS:
        raise UsageError(
            f"--optim-reference={reference!r} is not a canonical spec; choose one of: {', '.join(names())}, "
            "or give another implementation as MODULE:ATTR to check a port against it"
        )
    if hp and not port:
        raise UsageError("--optim-hp applies to a port run, --optim-reference=MODULE:ATTR: a spec's "
                         "hyperparameters are its record's defaults (and the values its checks vary)")
    port_spec = _port_spec(reference, items, dict(hp or {})) if port else None
    out: list[Candidate] = []
    for item in items:
        if item == "all":
            out.extend(bundled(n) for n in names())
        elif ":" in item:
            target, at, spec_name = item.partition("@")  # MODULE:ATTR@SPEC names its own spec
            if at and spec_name not in SPECS:
                raise UsageError(f"--optim={item}: {spec_name!r} is not a canonical spec; choose one of: "
                                 f"{', '.join(names())}")
            spec = SPECS[spec_name] if at else port_spec or (SPECS[reference] if reference else None)
            candidate = load_third_party(target, spec, settings)
            candidate.label = item
            out.append(candidate)
        elif item in SPECS:
            if reference not in (None, item):
                raise UsageError(
                    f"--optim={item} is the bundled {item}; --optim-reference={reference} only applies "
                    "to MODULE:ATTR candidates" + (f" (for the bundled one: --optim={SPECS[item].implementation})"
                                                   if port else "")
                )
            out.append(bundled(item))
        else:
            raise UsageError(
                f"--optim: unknown optimizer {item!r}. Bundled names: {', '.join(names())}, or 'all'; "
                "for your own optimizer pass MODULE:ATTR with --optim-reference=NAME"
            )
    seen, unique = set(), []
    for c in out:
        if c.label not in seen:
            seen.add(c.label)
            unique.append(c)
    return unique


def _port_spec(reference: str, items: list[str], hp: dict) -> Spec:
    """The record of a port run: the reference implementation as its oracle (specs/reference.py)."""
    from pytest_optim.specs.reference import framework_spec, loading_spec, reference_spec

    target, at, spec_name = reference.partition("@")
    if at and spec_name not in SPECS:
        raise UsageError(f"--optim-reference={reference}: {spec_name!r} is not a canonical spec; choose one of: "
                         f"{', '.join(names())}")
    obj = import_target(target, "--optim-reference")
    base = SPECS[spec_name] if at else framework_spec(obj, SPECS)
    for item in items:  # else the spec a torch / Keras candidate class is known as (for its names)
        if base is None and ":" in item and "@" not in item:
            base = framework_spec(import_target(item, "--optim"), SPECS)
    if "learning_rate" in hp:
        raise UsageError("--optim-hp: learning_rate is not a setting of a port run: every check chooses the "
                         "learning rate for its problem and gives the same one to both sides")
    if base is not None:
        unknown = [k for k in hp if k not in base.defaults]
        if unknown:
            why = (f"--optim-reference={reference} names it" if at else
                   "a class of this run is the one that record names for torch or Keras")
            raise UsageError(
                f"--optim-hp: {', '.join(unknown)} is not a hyperparameter of the {base.name} spec, whose optax "
                f"names this port run uses ({why}): give {', '.join(base.defaults) or 'only the learning rate'}; "
                "each side gets them under its own names (b1=0.9 reaches a torch class as betas)")
    try:
        ref = recognise(target, obj, loading_spec(reference, base, hp), {}, "--optim-reference")
    except UsageError as exc:  # the adapters name --optim=TARGET; here it came as the reference
        raise UsageError(str(exc).replace(f"--optim={target}", f"--optim-reference={target}")) from None
    if ref.factory is None:
        raise UsageError(f"--optim-reference={reference} is a ready-made transform: a port run builds the reference "
                         "at each check's learning rate and hyperparameters, so give its factory or class instead")
    ref.label = reference
    return reference_spec(reference, ref, base, hp)


def bundled(name: str) -> Candidate:
    """The from-scratch JAX implementation the spec's record names (``spec.implementation``)."""
    spec = SPECS[name]
    return Candidate(label=name, spec=spec, factory=spec.load_implementation(), bundled=True)


def import_target(target: str, option: str = "--optim") -> Any:
    """Import MODULE and return MODULE:ATTR's object (UsageError naming ``option`` otherwise)."""
    module_name, _, attr_path = target.partition(":")
    if not module_name or not attr_path:
        raise UsageError(f"{option}={target!r}: expected MODULE:ATTR, e.g. mypkg.optim:adam")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # the current directory applies, as for `python -m`
    from pytest_optim.candidates.keras_style import prefer_jax_backend

    prefer_jax_backend()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UsageError(
                f"{option}={target}: cannot import module {module_name!r} (no module named {exc.name!r}); "
                "run pytest from the directory that contains it or add it to PYTHONPATH"
            ) from None
        raise UsageError(f"{option}={target}: importing {module_name!r} failed: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the user's module is arbitrary code
        where = _user_frame(exc)
        raise UsageError(
            f"{option}={target}: importing {module_name!r} raised {type(exc).__name__}: {exc}{where}"
        ) from None
    obj: Any = module
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            public = sorted(n for n in dir(module) if not n.startswith("_"))[:12]
            raise UsageError(
                f"{option}={target}: module {module_name!r} has no attribute {attr_path!r} "
                f"(it has: {', '.join(public)})"
            )
        obj = getattr(obj, part)
    return obj


def load_third_party(target: str, reference: str | Spec | None, settings: dict | None = None) -> Candidate:
    """Import ``target`` (MODULE:ATTR) and recognise what it is (see :func:`recognise`).

    ``reference``: the spec it claims (a name or the record itself). ``settings`` (--optim-kwargs)
    are extra constructor keywords passed as given."""
    if reference is None:
        raise UsageError(
            f"--optim={target} needs --optim-reference=NAME, the canonical spec it should match "
            f"({', '.join(names())}), or MODULE:ATTR, another implementation to compare it with"
        )
    obj = import_target(target, "--optim")
    spec = SPECS[reference] if isinstance(reference, str) else reference
    return recognise(target, obj, spec, settings)


def recognise(target: str, obj: Any, spec: Spec, settings: dict | None = None, option: str = "--optim") -> Candidate:
    """What ``obj`` is: a torch or Keras optimizer class, a wrapped NumPy-style class, a ready-made
    transform or a factory; the Candidate that drives it for ``spec``."""
    settings = dict(settings or {})
    attr_path = target.partition(":")[2]
    from pytest_optim.candidates import adapters

    adapter = adapters.find(obj)
    if adapter is not None:  # another framework's optimizer (candidates/adapters.py)
        factory = adapter.wrap(target, obj, spec, settings)
        return Candidate(label=target, spec=spec, factory=factory, traceable=adapter.traceable, settings=settings,
                         style=adapter.style, observed=adapter.observed)
    if not inspect.isclass(obj) and callable(getattr(obj, "init", None)) and callable(getattr(obj, "update", None)):
        if settings:
            raise UsageError(f"{option}={target} is a ready-made transform: --optim-kwargs cannot reach its "
                             "constructor; pass the factory that builds it instead")
        return Candidate(label=target, spec=spec, factory=None, instance=obj)  # a ready-made transform
    if inspect.isclass(obj) and not (callable(getattr(obj, "init", None)) and callable(getattr(obj, "update", None))):
        hint = (f"; it has step(): if it is a NumPy-style optimizer, wrap it: numpy_optimizer({attr_path}, "
                "rename={...}) (docs/third-party.md)" if callable(getattr(obj, "step", None)) else "")
        raise UsageError(
            f"{option}={target}: {attr_path} is a class that is neither a torch.optim.Optimizer nor one whose "
            f"instances have init and update (an optax-style transformation){hint}"
        )
    if not callable(obj):
        raise UsageError(
            f"{option}={target}: {attr_path} is a {type(obj).__name__}; expected a factory "
            "(called with hyperparameters by keyword) or an object with init and update"
        )
    _check_signature(target, obj, spec)
    return Candidate(label=target, spec=spec, factory=obj, settings=settings)


def check_numpy_constructor(target: str, factory: Any, spec: Spec) -> None:
    """Reject up front a numpy_optimizer class whose constructor cannot take what the adapter passes.

    Judged from the class's own signature; one with ``**kwargs``, or whose signature cannot be
    read, is accepted (the hyperparameter checks then show an ignored value as a failure).
    """
    try:
        keywords = factory.keywords(spec.hyperparameters)
    except TypeError as exc:
        raise UsageError(f"--optim={target}: numpy_optimizer(..., rename=...) {exc}") from None
    name = getattr(factory.cls, "__qualname__", None) or type(factory.cls).__name__
    try:
        sig = inspect.signature(factory.cls)
    except (TypeError, ValueError):
        return
    params = list(sig.parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    shown = f"{name}({', '.join(('*' if p.kind is p.VAR_POSITIONAL else '') + p.name for p in params)})"
    accepted = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    missing = [k for k in keywords if k not in accepted]
    if missing:
        named = ", ".join(k if keywords[k] == k else f"{k} (from {keywords[k]!r})" for k in missing)
        raise UsageError(
            f"--optim={target}: {shown} does not accept keyword(s) {named}; the {spec.name} spec passes "
            f"{', '.join(spec.hyperparameters)} by keyword (optax's names), which rename={factory.rename!r} "
            f"makes {', '.join(keywords) or 'nothing'}. Fix it in numpy_optimizer(..., rename=...): map each "
            "to your constructor's name ({'b1': 'beta1'}), gather several into one tuple argument "
            "({('b1', 'b2'): 'betas'}), or map one the class does not have to None ({'eps': None})"
        )
    required = [
        p.name for p in params
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in keywords
    ]
    if required:
        raise UsageError(
            f"--optim={target}: {shown} requires {', '.join(required)}, which numpy_optimizer does not "
            f"pass: it builds the class from the {spec.name} spec's hyperparameters alone (here "
            f"{', '.join(keywords) or 'none'}); give the other parameters defaults, or wrap the class "
            "(a torch.optim.Optimizer subclass needs no wrapper: give the class itself)"
        )


def _check_signature(target: str, factory: Callable, spec: Spec) -> None:
    """Reject up front a factory that cannot take the spec's keywords (names the keyword)."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    params = sig.parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    accepted = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    missing = [h for h in spec.hyperparameters if h not in accepted]
    if missing:
        raise UsageError(
            f"--optim={target}: the factory does not accept keyword(s) {', '.join(missing)}; the "
            f"{spec.name} spec passes {', '.join(spec.hyperparameters)} by keyword (optax's names). "
            "Wrap it: def factory(learning_rate, ...): return yours(lr=learning_rate, ...)"
        )


def _user_frame(exc: BaseException) -> str:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return ""
    return f" ({last.tb_frame.f_code.co_filename}:{last.tb_lineno})"
