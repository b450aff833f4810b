"""The NumPy-style adapter (pytest_optim.candidates.numpy_style.numpy_optimizer) as a newcomer meets it.

* parameters are handed over as writable copies in the gradients' dtype, and the update given
  back is new - old, exactly;
* the state is snapshotted with every attribute, also of objects whose ``__getstate__`` is
  partial (every torch.optim.Optimizer), so a second and third step work;
* ``rename`` gathers several keywords into one tuple argument, or drops one (None);
* a class whose constructor cannot take the spec's keywords is rejected at start-up (exit 4);
* the torch.optim wrappers of docs/third-party.md are tests/candidates/torch_wrapped.py, verbatim.
"""

from __future__ import annotations

import collections
import copy
import re
import textwrap
from functools import partial
from pathlib import Path
from typing import NamedTuple

import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

from pytest_optim.candidates.numpy_style import NumpyFactory, numpy_optimizer, snapshot
from pytest_optim.outcomes import UsageError
from pytest_optim.candidates.selection import load_third_party

try:  # imported before any pytester test: pytester drops modules first imported inside a test, and
    import torch  # noqa: F401  a second import of torch's C extension in one process crashes it
except ImportError:  # the tests that need torch skip (pytest.importorskip)
    pass

ROOT = Path(__file__).resolve().parent.parent


class Recorder:
    """Records what the adapter hands over, then moves every parameter by a set amount."""

    def __init__(self, lr=0.1, shift=None):
        self.lr, self.shift, self.seen, self.count = lr, shift, [], 0

    def step(self, params, grads):
        self.count += 1
        self.seen.append([(type(p), p.dtype, p.flags.writeable, g.dtype) for p, g in zip(params, grads)])
        for p, g in zip(params, grads):
            if self.shift is not None:
                p[...] = self.shift(p)
            else:
                p -= (self.lr * np.asarray(g, np.float64)).astype(p.dtype)


def _step(factory, params, grads, **hp):
    transform = factory(learning_rate=0.1, **hp)
    state = transform.init(params)
    updates, state = transform.update(grads, state, params)
    return updates, state


# -- 1. dtypes handed over, exact new - old -------------------------------------------------------


def test_parameters_arrive_as_writable_copies_in_the_gradients_dtype():
    params = {
        "f32": jnp.array([1.0, 2.0], jnp.float32),
        "f64": np.array([1.0, 2.0], np.float64),  # NumPy leaves: float64 whatever jax_enable_x64 says
        "bf16": np.array([1.0, 2.0], ml_dtypes.bfloat16),
        "mixed": np.array([3.0], np.float64),  # a float64 parameter with a float32 gradient
        "scalar": jnp.array(0.5, jnp.float32),
    }
    grads = {k: np.asarray(v).astype(np.float32 if k == "mixed" else np.asarray(v).dtype) for k, v in params.items()}
    updates, state = _step(numpy_optimizer(Recorder, rename={"learning_rate": "lr"}), params, grads)
    (seen,) = state.obj.seen
    by_leaf = dict(zip(sorted(params), seen))  # jax flattens dicts in key order
    assert by_leaf["f32"] == (np.ndarray, np.float32, True, np.float32)
    assert by_leaf["f64"] == (np.ndarray, np.float64, True, np.float64)
    assert by_leaf["bf16"][1] == ml_dtypes.bfloat16 and by_leaf["bf16"][3] == ml_dtypes.bfloat16
    assert by_leaf["mixed"][1] == np.float32  # the gradient's dtype decides
    assert by_leaf["scalar"][:3] == (np.ndarray, np.float32, True)
    assert np.dtype(np.longdouble) not in {np.dtype(d) for _, d, _, _ in seen} or np.longdouble == np.float64
    for k, u in updates.items():
        assert np.asarray(u).dtype == grads[k].dtype, k
    # the caller's parameters are untouched (the class got copies)
    np.testing.assert_array_equal(params["f64"], [1.0, 2.0])


def test_update_is_new_minus_old_exactly():
    old = np.array([1.0, -3.0, 1e-30, 2.0**20 + 1.0, 0.0], np.float32)
    # one ulp up, a step across zero, a tiny parameter moved far, a large one moved to ~1, one from 0
    new = np.array([np.nextafter(np.float32(1), np.float32(2)), 2.5, 0.75, 1.25, 1e-40], np.float32)
    factory = numpy_optimizer(partial(Recorder, shift=lambda p: new.astype(p.dtype)), rename={"learning_rate": "lr"})
    (u,), _ = _step(factory, [old], [np.zeros_like(old)])
    assert u.dtype == np.float32
    # the difference of the two float32 values in float64, rounded once to float32
    np.testing.assert_array_equal(u, (np.float64(new) - np.float64(old)).astype(np.float32))
    assert u[0] == np.float32(2.0**-23)  # within a factor 2 of each other: exact (Sterbenz)
    assert u[1] == 5.5 and u[4] == new[4]  # through zero, and from 0: exact as well
    assert u[3] == -1048575.75 and old[3] + u[3] == new[3]  # 22 significant bits: exact in float32
    assert u[2] == np.float32(0.75) and old[2] + u[2] == new[2]  # 0.75 - 1e-30 rounds, to 0.75


def test_update_is_new_minus_old_for_float64_and_bfloat16_and_returned_lists():
    old64 = np.array([1.0, 1e8, -2.0], np.float64)
    new64 = np.array([1.0 + 2.0**-52, 1e8 + 1.5, 7.0], np.float64)

    class Returns:
        def __init__(self, lr):
            pass

        def step(self, params, grads):
            return [new64.astype(p.dtype) for p in params]  # a new list instead of in place

    (u,), _ = _step(numpy_optimizer(Returns, rename={"learning_rate": "lr"}), [old64], [np.zeros(3)])
    np.testing.assert_array_equal(u, new64 - old64)
    assert u[0] == 2.0**-52 and u[1] == 1.5

    old16 = np.array([1.0, 3.0, -0.5], ml_dtypes.bfloat16)
    new16 = np.array([1.0078125, 2.0, 0.5], ml_dtypes.bfloat16)
    factory = numpy_optimizer(partial(Recorder, shift=lambda p: new16), rename={"learning_rate": "lr"})
    (u,), _ = _step(factory, [old16], [np.zeros(3, ml_dtypes.bfloat16)])
    assert u.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(u.astype(np.float64), [2.0**-7, -1.0, 1.0])


def test_wrong_number_or_shape_of_returned_arrays_is_an_error():
    class Short:
        def __init__(self, lr):
            pass

        def step(self, params, grads):
            return params[:1]

    with pytest.raises(ValueError, match="returned 1 arrays for 2 parameters"):
        _step(numpy_optimizer(Short, rename={"learning_rate": "lr"}), [np.zeros(2), np.zeros(3)], [np.zeros(2), np.zeros(3)])


# -- 2. snapshots ---------------------------------------------------------------------------------


class Partial:
    """Pickles (and deep-copies) only ``kept``; ``lost`` is set in __init__ and read later."""

    def __init__(self):
        self.kept, self.lost = [1.0], {"flag": True}

    def __getstate__(self):
        return {"kept": self.kept}


class Slotted:
    __slots__ = ("a", "__private", "unset")

    def __init__(self, a):
        self.a, self.__private = a, [a]

    def private(self):
        return self.__private


class Pair(NamedTuple):
    x: list
    y: float


def test_copy_deepcopy_loses_what_snapshot_keeps():
    obj = Partial()
    assert not hasattr(copy.deepcopy(obj), "lost")  # the problem
    snap = snapshot(obj)
    assert snap.lost == {"flag": True} and snap.lost is not obj.lost and snap.kept == [1.0]


def test_snapshot_containers_slots_sharing_and_cycles():
    shared = np.arange(3.0)
    d = collections.defaultdict(list, {"k": [shared]})
    od = collections.OrderedDict(b=shared, a=2)
    s = Slotted(shared)
    root = {"d": d, "od": od, "tuple": (shared, [shared]), "pair": Pair([shared], 1.0), "set": {1, 2},
            "slots": s, "partial": Partial(), "fn": np.sqrt, "module": np, "cls": Slotted}
    root["self"] = root
    snap = snapshot(root)
    copied = snap["d"]["k"][0]
    assert copied is not shared and np.array_equal(copied, shared)
    # one shared memo: the same array everywhere in the copy
    assert snap["od"]["b"] is copied and snap["tuple"][0] is copied and snap["tuple"][1][0] is copied
    assert snap["pair"].x[0] is copied and isinstance(snap["pair"], Pair)
    assert snap["slots"].a is copied and snap["slots"].private()[0] is copied
    assert not hasattr(snap["slots"], "unset")
    assert type(snap["d"]) is collections.defaultdict and snap["d"].default_factory is list
    snap["d"]["new"].append(1)  # default_factory still works
    assert type(snap["od"]) is collections.OrderedDict and list(snap["od"]) == ["b", "a"]
    assert snap["set"] == {1, 2} and snap["set"] is not root["set"]
    assert snap["partial"].lost == {"flag": True}
    assert snap["fn"] is np.sqrt and snap["module"] is np and snap["cls"] is Slotted
    assert snap["self"] is snap
    copied[0] = 99.0
    assert shared[0] == 0.0


def _torch_problem(torch):
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(3, generator=gen, dtype=torch.float64), torch.randn(2, 2, generator=gen, dtype=torch.float64)]


def test_snapshot_of_a_real_torch_adam():
    torch = pytest.importorskip("torch")
    tensors = _torch_problem(torch)
    opt = torch.optim.Adam(tensors, lr=0.1)
    for t in tensors:
        t.grad = torch.ones_like(t)
    opt.step()
    snap = snapshot(opt)
    copies = snap.param_groups[0]["params"]
    assert type(snap) is torch.optim.Adam and type(snap.state) is collections.defaultdict
    assert all(c is not t for c, t in zip(copies, tensors))
    keys = list(snap.state)  # the state is keyed by the very tensors in param_groups
    assert len(keys) == len(copies) and all(k is c for k, c in zip(keys, copies))
    assert set(vars(snap)) == set(vars(opt))  # every attribute, hooks included
    before = [t.clone() for t in tensors]
    snap.step()
    snap.step()
    assert all(torch.equal(t, b) for t, b in zip(tensors, before))  # the original did not move
    opt.step()
    opt.step()
    assert all(torch.equal(c, t) for c, t in zip(copies, tensors))  # the copy stepped like the original
    assert float(snap.state[copies[0]]["step"]) == float(opt.state[tensors[0]]["step"]) == 3


def _my_adam(torch):
    class MyAdam(torch.optim.Adam):
        """An Optimizer subclass with its own attribute: copy.deepcopy drops it (partial __getstate__)."""

        def __init__(self, params, **kwargs):
            super().__init__(params, **kwargs)
            self.maximize_flag = False

        def step(self, closure=None):
            if self.maximize_flag:
                raise AssertionError("never set")
            return super().step(closure)

    return MyAdam


def test_torch_subclass_attribute_lost_by_deepcopy_kept_by_snapshot():
    torch = pytest.importorskip("torch")
    tensors = _torch_problem(torch)
    opt = _my_adam(torch)(tensors, lr=0.1)
    for t in tensors:
        t.grad = torch.ones_like(t)
    opt.step()
    with pytest.raises(AttributeError, match="maximize_flag"):
        copy.deepcopy(opt).step()  # what the adapter used to do
    snap = snapshot(opt)
    assert snap.maximize_flag is False
    snap.step()


@pytest.mark.parametrize("which", ["Adam", "MyAdam"])
def test_torch_optimizer_through_the_adapter_steps_three_times_and_stays_pure(which):
    torch = pytest.importorskip("torch")
    from tests.candidates.torch_wrapped import BETAS, TorchStep

    cls = torch.optim.Adam if which == "Adam" else _my_adam(torch)
    factory = numpy_optimizer(partial(TorchStep, cls), rename=BETAS)
    transform = factory(learning_rate=0.1, b1=0.9, b2=0.999, eps=1e-8)
    params = [np.array([1.0, -2.0, 3.0]), np.array([[0.5, 0.25], [1.0, 2.0]])]
    reference = [torch.tensor(p) for p in params]
    ref_opt = torch.optim.Adam(reference, lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    state = transform.init(params)
    for _ in range(3):
        grads = [np.cos(3 * p) for p in params]
        updates, new_state = transform.update(grads, state, params)
        again, _ = transform.update(grads, state, params)  # same state, same inputs: same result
        assert all(np.array_equal(a, b) for a, b in zip(updates, again))
        for t, p, g in zip(reference, params, grads):
            with torch.no_grad():
                t.copy_(torch.from_numpy(p))  # the same input as the adapter's, step by step
            t.grad = torch.tensor(g)
        before = [t.clone() for t in reference]
        ref_opt.step()
        for u, t, b in zip(updates, reference, before):
            np.testing.assert_array_equal(u, (t - b).numpy())  # torch's own step, new - old
        params = [p + u for p, u in zip(params, updates)]
        state = new_state
    assert state.obj.count == 3 and float(state.obj.opt.state[state.obj.tensors[0]]["step"]) == 3


# -- 3. rename: tuples gather, None drops ---------------------------------------------------------


class Takes:
    def __init__(self, lr, betas=(0.9, 0.999), eps=1e-8):
        self.lr, self.betas, self.eps = lr, betas, eps

    def step(self, params, grads):
        pass


def test_tuple_key_gathers_keywords_into_one_argument():
    factory = numpy_optimizer(Takes, rename={"learning_rate": "lr", ("b1", "b2"): "betas"})
    assert factory.keywords(("learning_rate", "b1", "b2", "eps")) == {
        "lr": "learning_rate", "betas": ("b1", "b2"), "eps": "eps"}
    transform = factory(learning_rate=jnp.asarray(0.1), b1=jnp.asarray(0.5), b2=0.9, eps=1e-3)
    assert transform.kwargs == {"lr": pytest.approx(0.1), "betas": (0.5, pytest.approx(0.9)), "eps": 1e-3}
    assert all(type(v) is float for v in (transform.kwargs["lr"], *transform.kwargs["betas"]))
    obj = transform.init([np.zeros(1)]).obj
    assert obj.betas == (0.5, pytest.approx(0.9))
    with pytest.raises(TypeError, match=r"gathers \('b1', 'b2'\) into 'betas', but b2 is not among"):
        factory(learning_rate=0.1, b1=0.5, eps=1e-3)


def test_none_drops_a_keyword():
    factory = numpy_optimizer(Takes, rename={"learning_rate": "lr", "b1": None, "b2": None})
    assert factory.keywords(("learning_rate", "b1", "b2", "eps")) == {"lr": "learning_rate", "eps": "eps"}
    assert factory(learning_rate=0.1, b1=0.5, b2=0.9, eps=1e-3).kwargs == {"lr": 0.1, "eps": 1e-3}


@pytest.mark.parametrize(
    "rename, error",
    [({("b1", "b2"): "betas", "b1": "beta1"}, "'b1' appears in both"),
     ({"b1": "beta", "b2": "beta"}, "both map to 'beta'"),
     ({(): "x"}, "non-empty tuple"),
     ({"eps": 1e-8}, "expected the constructor's keyword")],
    ids=["name-twice", "target-twice", "empty-tuple", "value-not-str"],
)
def test_inconsistent_rename_is_refused_when_the_factory_is_made(rename, error):
    with pytest.raises((TypeError, ValueError), match=re.escape(error)):
        numpy_optimizer(Takes, rename=rename)


# -- 4. start-up check of the constructor ---------------------------------------------------------

NP_MODULE = textwrap.dedent(
    """
    from functools import partial
    from pytest_optim.candidates.numpy_style import numpy_optimizer

    class MyAdam:
        def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            pass
        def step(self, params, grads):
            pass

    class Flexible:
        def __init__(self, lr, **options):
            pass
        def step(self, params, grads):
            pass

    class NeedsParams:
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
            pass
        def step(self, params, grads):
            pass

    half_renamed = numpy_optimizer(MyAdam, rename={"learning_rate": "lr"})
    tuple_missing = numpy_optimizer(MyAdam, rename={"learning_rate": "lr", ("b1", "b2"): "betas"})
    good = numpy_optimizer(MyAdam, rename={"learning_rate": "lr", "b1": "beta1", "b2": "beta2"})
    dropped = numpy_optimizer(MyAdam, rename={"learning_rate": "lr", "b1": "beta1", "b2": None})
    flexible = numpy_optimizer(Flexible, rename={"learning_rate": "lr"})
    unreadable = numpy_optimizer(dict, rename={"learning_rate": "lr"})
    needs_params = numpy_optimizer(NeedsParams, rename={"learning_rate": "lr", ("b1", "b2"): "betas"})
    """
)


def test_constructor_missing_keywords_is_a_usage_error_exit_4(pytester):
    pytester.makepyfile(np_mine=NP_MODULE)
    result = pytester.runpytest_subprocess("--optim=np_mine:half_renamed", "--optim-reference=adam")
    assert result.ret == 4
    err, out = result.stderr.str(), result.stdout.str()
    assert "Traceback" not in err + out
    (line,) = [ln for ln in err.splitlines() if "does not accept" in ln]  # the whole story, one line
    assert "--optim=np_mine:half_renamed: MyAdam(lr, beta1, beta2, eps) does not accept keyword(s) b1, b2;" in line
    assert "the adam spec passes learning_rate, b1, b2, eps by keyword" in line
    assert "rename={'learning_rate': 'lr'} makes lr, b1, b2, eps" in line
    assert "{'b1': 'beta1'}" in line and "to None" in line


@pytest.mark.parametrize(
    "attr, message",
    [("tuple_missing", "does not accept keyword(s) betas (from ('b1', 'b2'))"),
     ("needs_params", "NeedsParams(params, lr, betas, eps) requires params, which numpy_optimizer does not pass")],
)
def test_constructor_rejections_name_what_is_wrong(pytester, attr, message):
    pytester.makepyfile(np_mine=NP_MODULE)
    pytester.syspathinsert()
    with pytest.raises(UsageError) as info:
        load_third_party(f"np_mine:{attr}", "adam")
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("attr", ["good", "dropped", "flexible", "unreadable"])
def test_constructors_that_can_take_the_keywords_are_accepted(pytester, attr):
    pytester.makepyfile(np_mine=NP_MODULE)
    pytester.syspathinsert()
    candidate = load_third_party(f"np_mine:{attr}", "adam")
    assert isinstance(candidate.factory, NumpyFactory) and not candidate.traceable


def test_torch_optimizer_inside_numpy_optimizer_is_rejected_pointing_at_the_class_itself(pytester):
    pytest.importorskip("torch")
    pytester.makepyfile(np_torch="import torch\nfrom pytest_optim.candidates.numpy_style import numpy_optimizer\n"
                        "adam = numpy_optimizer(torch.optim.Adam, rename={'learning_rate': 'lr', ('b1', 'b2'): 'betas'})\n")
    pytester.syspathinsert()
    with pytest.raises(UsageError, match="requires params, which numpy_optimizer does not pass.*needs no wrapper: give the class itself"):
        load_third_party("np_torch:adam", "adam")


# -- 5. the torch.optim wrappers: the docs' code is the module ------------------------------------


def _docs_block() -> str:
    text = (ROOT / "docs" / "third-party.md").read_text()
    section = re.search(r"^###? Any other framework.*?$(.*?)(?=^## )", text, re.M | re.S)
    assert section, "docs/third-party.md has no 'Any other framework' section"
    block = re.search(r"^```python\n(.*?)^```$", section.group(1), re.M | re.S)
    assert block, "no python code block in the 'Any other framework' section"
    return block.group(1)


def test_docs_torch_wrapper_is_the_test_module_verbatim():
    module = (ROOT / "tests" / "candidates" / "torch_wrapped.py").read_text()
    assert _docs_block() == module, "docs/third-party.md and tests/candidates/torch_wrapped.py have drifted apart"


def test_torch_wrappers_are_accepted_for_their_specs():
    pytest.importorskip("torch")
    for name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamax", "nadam"):
        candidate = load_third_party(f"tests.candidates.torch_wrapped:{name}", name)
        assert not candidate.traceable
        transform = candidate.make(0.1)  # every spec hyperparameter, at its default
        state = transform.init({"w": jnp.ones(3)})
        updates, state = transform.update({"w": jnp.full(3, 0.5)}, state, {"w": jnp.ones(3)})
        assert np.all(np.asarray(updates["w"]) < 0), name


@pytest.fixture(scope="module")
def torch_stepped():
    """torch imports parts of itself on an optimizer's first step (torch._dynamo, which registers
    operator libraries once per process). pytester removes at teardown every module imported since
    its fixture was set up, and their re-import later in this process then fails ("Only a single
    TORCH_LIBRARY can be used to register the namespace _inductor_test"): so they are imported
    first, by this wider-scoped fixture, set up before the pytester fixture of a test."""
    torch = pytest.importorskip("torch")
    p = torch.zeros(3, requires_grad=True)
    p.grad = torch.ones(3)
    torch.optim.Adam([p]).step()


def test_torch_adam_runs_checks_through_the_plugin(torch_stepped, pytester):
    result = pytester.runpytest(
        "--optim=tests.candidates.torch_wrapped:adam", "--optim-reference=adam",
        "-k", "test_first_two_steps", "-p", "no:randomly", "-p", "no:cacheprovider",
    )
    out = result.stdout.str()
    assert "optim: tests.candidates.torch_wrapped:adam (as adam)" in out, out[-3000:]
    result.assert_outcomes(passed=2)
