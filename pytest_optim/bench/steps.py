"""Step-time benchmarks of an optimizer against optax and a memory-bandwidth floor.

Imported only when benchmarks run (it imports JAX). The suite ``suites/test_benchmarks.py``
drives it through pytest-benchmark; the helpers here are plain functions so the project's
own tests (``tests/test_bench_*.py``) can check them without the benchmark fixture.

Three *runners* are timed per case, interleaved round by round in one test:

* ``ours``  - the candidate under test (``optim_candidate.make(lr)``),
* ``optax`` - optax's implementation of the same spec (``spec.optax_reference(lr)``),
* ``floor`` - ``p - c*g``: the least work any first-order step must do (read p and g, write p).

Each is a jitted ``step(params, state, grads) -> (params, state)`` with params and state
donated (``donate_argnums=(0, 1)``), so the update runs in place. Two figures:

* ``dispatch`` - a Python loop of jitted single steps: what a training loop that calls the
  optimizer from Python pays (dispatch overhead dominates small models);
* ``compute``  - ``steps_per_round`` steps inside one ``lax.scan`` (one call), the gradient of
  step k being ``g * s_k`` with ``s_k`` varying per step, so nothing can be hoisted out of the
  loop: the cost of the arithmetic and memory traffic alone.

Bytes-per-parameter model (float32, 4 bytes per array element touched once per step; an
ideal fused step reads every input array once and writes every output array once):

==========================  ====================================  ========
optimizer                   arrays read / written                 B/param
==========================  ====================================  ========
floor, sgd                  read p, g; write p                    12
momentum, nesterov          read p, g, v; write p, v              20
adagrad, rmsprop            read p, g, r; write p, r              20
adam, adamax, nadam,        read p, g, m, v; write p, m, v        28
adabelief
==========================  ====================================  ========

Effective GB/s = B/param x parameters / step time. ``x floor`` = step time / floor step time;
the ideal is B/param / 12 (adam: 2.33x), anything above that is extra passes over memory.
"""

from __future__ import annotations

import math
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

LEARNING_RATE = 1e-3
FLOOR_BYTES = 12
# Bytes per parameter of each rule's fused step and its target (ours <= x floor at 1e7 parameters on
# CPU; measured and reported, never asserted) are in its spec record: bytes_per_param, target_x_floor.
TARGET_SIZE = 10**7
FIGURES = ("dispatch", "compute")


# -- workloads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """Parameter shapes to step over: a name and ``{leaf name: shape}``."""

    name: str
    shapes: tuple[tuple[str, tuple[int, ...]], ...]
    kind: str  # "size" (one leaf), "leaves" (many-leaf pytree), "model" (a model's shapes)
    note: str = ""

    @property
    def n_params(self) -> int:
        return sum(math.prod(s) for _, s in self.shapes)

    @property
    def n_leaves(self) -> int:
        return len(self.shapes)

    @property
    def largest_leaf(self) -> int:
        return max(math.prod(s) for _, s in self.shapes)


def size_workload(n: int) -> Workload:
    return Workload(f"n1e{round(math.log10(n))}", (("w", (n,)),), "size")


def _dense(name, fan_in, fan_out):
    return ((f"{name}/w", (fan_in, fan_out)), (f"{name}/b", (fan_out,)))


def _conv(name, k, c_in, c_out):
    return ((f"{name}/w", (k, k, c_in, c_out)), (f"{name}/b", (c_out,)))


MANY_LEAVES = Workload(
    "leaves100", tuple((f"leaf{i:03d}", (100, 100)) for i in range(100)), "leaves",
    "100 leaves of 100x100 (1e6 parameters): per-leaf overheads",
)
MLP_MNIST = Workload(
    "mlp_mnist", _dense("fc1", 784, 512) + _dense("fc2", 512, 512) + _dense("fc3", 512, 10), "model",
    "MLP for MNIST 784-512-512-10",
)
CNN_CIFAR10 = Workload(
    "cnn_cifar10",
    _conv("conv1", 3, 3, 32) + _conv("conv2", 3, 32, 64) + _conv("conv3", 3, 64, 64)
    + _dense("fc1", 4 * 4 * 64, 64) + _dense("fc2", 64, 10),
    "model", "small CNN for CIFAR-10: 3x(conv3x3 + pool) 32-64-64, dense 64, dense 10",
)
EMBBAG_IMDB = Workload(
    "embbag_imdb", (("embed", (20000, 64)),) + _dense("fc1", 64, 64) + _dense("fc2", 64, 2), "model",
    "embedding-bag text classifier for IMDB: vocab 20000 x 64, dense 64, dense 2",
)
MODELS = (MLP_MNIST, CNN_CIFAR10, EMBBAG_IMDB)


def workloads(mode: str, backend: str = "cpu") -> list[Workload]:
    """The cases of a mode: smoke = 1e3 and 1e4 only; full = 1e3..1e7 (1e8 off CPU), 100 leaves, models."""
    if mode == "smoke":
        return [size_workload(10**3), size_workload(10**4)]
    top = 8 if backend != "cpu" else 7
    return [size_workload(10**k) for k in range(3, top + 1)] + [MANY_LEAVES, *MODELS]


def make_params(workload: Workload, seed: int = 0) -> dict[str, jax.Array]:
    """float32 parameters of the workload's shapes (on the default device)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in workload.shapes:
        out[name] = jnp.asarray(rng.standard_normal(shape, dtype=np.float32))
    return out


def make_grads(params, seed: int = 1) -> dict[str, jax.Array]:
    rng = np.random.default_rng(seed)
    return {k: jnp.asarray(rng.standard_normal(v.shape, dtype=np.float32)) for k, v in params.items()}


# -- the three step functions -------------------------------------------------------------------


class _FloorTransform:
    """``p - c*g`` in init/update form, so all three runners share one step wrapper."""

    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate

    def init(self, params):
        del params
        return ()

    def update(self, grads, state, params=None):
        del params
        return jax.tree.map(lambda g: -jnp.asarray(self.learning_rate, g.dtype) * g, grads), state


def floor_transform(learning_rate: float = LEARNING_RATE) -> _FloorTransform:
    return _FloorTransform(learning_rate)


def _apply(params, updates):
    return jax.tree.map(lambda p, u: jnp.asarray(p + u, p.dtype), params, updates)


def step_fn(transform) -> Callable:
    """``step(params, state, grads) -> (params, state)``: one update, applied."""

    def step(params, state, grads):
        updates, state = transform.update(grads, state, params)
        return _apply(params, updates), state

    return step


def scan_fn(transform) -> Callable:
    """``scan(params, state, grads, scales) -> (params, state)``: len(scales) steps in one call.

    Step k uses the gradient ``grads * scales[k]``: it varies per step, so XLA cannot hoist
    any of the update out of the loop, and costs no extra memory pass (fused into the read of g).
    """
    step = step_fn(transform)

    def run(params, state, grads, scales):
        def body(carry, s):
            p, st = carry
            g = jax.tree.map(lambda x: x * s.astype(x.dtype), grads)
            return step(p, st, g), None

        (params, state), _ = jax.lax.scan(body, (params, state), scales)
        return params, state

    return run


def jit_step(transform, figure: str) -> Callable:
    fn = step_fn(transform) if figure == "dispatch" else scan_fn(transform)
    return jax.jit(fn, donate_argnums=(0, 1))


# -- compile-time accounting (jax.monitoring) ---------------------------------------------------

_COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)
_lock = threading.Lock()
_compile_totals = {"seconds": 0.0, "backend_compiles": 0}
_listener_installed = False


def _listener(event: str, duration: float, **kwargs) -> None:
    if event in _COMPILE_EVENTS:
        with _lock:
            _compile_totals["seconds"] += duration
            if event == "/jax/core/compile/backend_compile_duration":
                _compile_totals["backend_compiles"] += 1


def install_compile_listener() -> None:
    global _listener_installed
    if not _listener_installed:
        jax.monitoring.register_event_duration_secs_listener(_listener)
        _listener_installed = True


def compile_counters() -> tuple[float, int]:
    """(seconds spent tracing + lowering + compiling, number of XLA compiles) so far."""
    install_compile_listener()
    with _lock:
        return _compile_totals["seconds"], _compile_totals["backend_compiles"]


# -- a runner: one implementation's jitted step, carrying its own donated buffers ----------------


@dataclass
class Runner:
    label: str  # "ours", "optax", "floor"
    fn: Callable
    carry: tuple  # (params, state): donated into each call, replaced by its outputs
    args: tuple  # grads (and the per-step scales for the compute figure)
    calls_per_round: int
    times: list[float] = field(default_factory=list)  # seconds per round
    compile_s: float = float("nan")
    first_call_s: float = float("nan")
    compiles: int = 0

    def call(self) -> None:
        self.carry = self.fn(*self.carry, *self.args)

    def start(self, warmup_rounds: int = 1) -> None:
        """First call (compile) with its compile time measured, then warm-up rounds."""
        s0, c0 = compile_counters()
        t0 = time.perf_counter()
        self.call()
        jax.block_until_ready(self.carry)
        self.first_call_s = time.perf_counter() - t0
        s1, c1 = compile_counters()
        self.compile_s, self.compiles = s1 - s0, c1 - c0
        for _ in range(warmup_rounds):
            self.round(record=False)

    def round(self, record: bool = True) -> None:
        t0 = time.perf_counter()
        for _ in range(self.calls_per_round):
            self.call()
        jax.block_until_ready(self.carry)
        if record:
            self.times.append(time.perf_counter() - t0)

    def cache_size(self) -> int:
        return self.fn._cache_size()


def _copy(tree):
    return jax.tree.map(lambda x: jnp.array(x, copy=True), tree)


def steps_per_round(workload: Workload, figure: str, bytes_per_param: int, round_s: float) -> int:
    """Steps per timed round, so one round lasts about ``round_s`` (estimate: 40 GB/s + overhead)."""
    overhead = 8e-6 if figure == "dispatch" else 0.5e-6
    est = bytes_per_param * workload.n_params / 40e9 + overhead + 0.2e-6 * workload.n_leaves
    lo = 1 if figure == "dispatch" else 4
    return int(min(2000, max(lo, round(round_s / est))))


def make_runner(label, transform, params, grads, figure: str, steps: int) -> Runner:
    fn = jit_step(transform, figure)
    params = _copy(params)
    state = transform.init(params)
    if figure == "dispatch":
        args, calls = (grads,), steps
    else:
        scales = jnp.asarray(np.linspace(0.5, 1.5, steps, dtype=np.float32))
        args, calls = (grads, scales), 1
    return Runner(label, fn, (params, state), args, calls)


# -- results ------------------------------------------------------------------------------------


def _median(xs):
    return statistics.median(xs) if xs else float("nan")


def paired_ratio(a: list[float], b: list[float]) -> float:
    """Median of per-round ratios a_i / b_i (rounds were interleaved, so drift cancels)."""
    pairs = [x / y for x, y in zip(a, b) if y > 0]
    return statistics.median(pairs) if pairs else float("nan")


def device_name() -> str:
    d = jax.devices()[0]
    kind = getattr(d, "device_kind", "") or d.platform
    if d.platform == "cpu":
        return f"cpu: {cpu_model()} ({cpu_count()} cores)"
    return f"{d.platform}: {kind} (x{len(jax.devices())})"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def cpu_count() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def summarize(
    *, label: str, spec, workload: Workload, figure: str, steps: int,
    runners: dict[str, Runner],
) -> dict[str, Any]:
    """The ``extra_info`` of one benchmark: per-step times, ratios, GB/s, compile times, target."""
    n = workload.n_params
    bpp = spec.bytes_per_param
    per_step = {k: _median(r.times) / steps for k, r in runners.items()}
    best = {k: (min(r.times) / steps if r.times else float("nan")) for k, r in runners.items()}
    info: dict[str, Any] = {
        "optimizer": label,
        "spec": spec.name,
        "workload": workload.name,
        "workload_kind": workload.kind,
        "n_params": n,
        "n_leaves": workload.n_leaves,
        "figure": figure,
        "device": device_name(),
        "backend": jax.default_backend(),
        "dtype": "float32",
        "steps_per_round": steps,
        "rounds": len(runners["ours"].times),
        "note": "benchmark stats are per round of steps_per_round steps; *_step_s are per step",
        "bytes_per_param": bpp,
        "floor_bytes_per_param": FLOOR_BYTES,
    }
    for k in runners:
        info[f"{k}_step_s"] = per_step[k]
        info[f"{k}_step_min_s"] = best[k]
        info[f"{k}_compile_s"] = runners[k].compile_s
        info[f"{k}_first_call_s"] = runners[k].first_call_s
    info["ours_vs_optax"] = paired_ratio(runners["ours"].times, runners["optax"].times)
    info["ours_x_floor"] = paired_ratio(runners["ours"].times, runners["floor"].times)
    info["optax_x_floor"] = paired_ratio(runners["optax"].times, runners["floor"].times)
    info["ideal_x_floor"] = bpp / FLOOR_BYTES
    info["ours_gbps"] = bpp * n / per_step["ours"] / 1e9
    info["optax_gbps"] = bpp * n / per_step["optax"] / 1e9
    info["floor_gbps"] = FLOOR_BYTES * n / per_step["floor"] / 1e9
    info["steps_per_s"] = 1.0 / per_step["ours"]
    info["optax_steps_per_s"] = 1.0 / per_step["optax"]
    target = spec.target_x_floor
    if n == TARGET_SIZE and workload.kind == "size" and figure == "compute":
        info["target_x_floor"] = target
        info["target_x_floor_met"] = bool(info["ours_x_floor"] <= target)
    info["target_vs_optax_met"] = bool(info["ours_vs_optax"] <= 1.0)
    return info


# -- compiled-code inspection: count memory passes ------------------------------------------------

_SHAPE = re.compile(r"\b(?:pred|[fsu](?:8|16|32|64)|bf16)\[([0-9,]*)\]")
_INSTR = re.compile(r"^\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*(\([^=]*?\)|\S+)\s+([a-z][\w\-]*)\((.*?)\)")


def _elements(shape_text: str) -> list[int]:
    return [math.prod(int(d) for d in dims.split(",")) if dims else 1 for dims in _SHAPE.findall(shape_text)]


def memory_passes(hlo_text: str, n: int) -> dict[str, int]:
    """Count the memory passes over ``n``-element arrays made by the ENTRY computation's ops.

    A pass is one read or one write of an ``n``-element array by a top-level op (a fusion, a
    copy, ...): its operands and results of that size. An ideal fused adam step makes 7
    (read p, g, m, v; write p, m, v), the floor 3. ``copies`` counts top-level ``copy`` ops of
    such arrays (a read and a write doing no arithmetic). Fused computations are not counted
    (their work happens in registers), nor while loops (use the dispatch figure's HLO).
    """
    shapes: dict[str, list[int]] = {}
    passes = copies = fusions = 0
    in_entry = False
    for line in hlo_text.splitlines():
        if line.startswith("ENTRY"):
            in_entry = True
            for name, shape in re.findall(r"([\w.\-]+):\s*((?:pred|[fsu](?:8|16|32|64)|bf16)\[[0-9,]*\])", line):
                shapes[name] = _elements(shape)
            continue
        if in_entry and line.startswith("}"):
            break
        if not in_entry:
            continue
        m = _INSTR.match(line)
        if not m:
            continue
        name, shape, op, operands = m.groups()
        shapes[name] = _elements(shape)
        if op in ("parameter", "tuple", "get-tuple-element", "constant", "bitcast"):
            continue
        big_out = sum(1 for e in shapes[name] if e == n)
        big_in = sum(1 for o in re.findall(r"%([\w.\-]+)", operands) if n in shapes.get(o, []))
        if not big_out and not big_in:
            continue
        passes += big_out + big_in
        copies += op == "copy"
        fusions += op == "fusion"
    return {"passes": passes, "copies": copies, "fusions": fusions}


def compiled_text(transform, workload: Workload, figure: str = "dispatch", steps: int = 4) -> str:
    """``jax.jit(step).lower(...).compile().as_text()`` for the workload (abstract shapes only)."""
    params = {k: jax.ShapeDtypeStruct(s, jnp.float32) for k, s in workload.shapes}
    state = jax.eval_shape(transform.init, params)
    fn = jit_step(transform, figure)
    if figure == "dispatch":
        lowered = fn.lower(params, state, params)
    else:
        lowered = fn.lower(params, state, params, jax.ShapeDtypeStruct((steps,), jnp.float32))
    return lowered.compile().as_text()
