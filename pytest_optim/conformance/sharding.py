"""Sharded parameters: the candidate on parameters split over several devices.

Runs in its own process (``python -m pytest_optim.conformance.sharding --optim=... --reference=... --devices=N
--seed=S``, or ``--serve``, which answers one request per line for a whole run) because the number of host devices is fixed when JAX starts
(``XLA_FLAGS=--xla_force_host_platform_device_count=N``). On a machine with N accelerators the
same code uses them. It prints one JSON line: passed, and a message for a person. ``--seed`` is
the parent run's ``--optim-seed``: it draws the parameters and gradients (see seeding.py).

What must hold: the updates equal the unsharded run's (same tolerance as jit vs eager), each
update leaf has its parameter's sharding, and every state leaf shaped like a parameter is sharded
like it (the optimizer state follows the parameters instead of gathering on one device).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from pytest_optim import seeding


def _shardings(mesh, params):
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    def spec(x):
        if x.ndim >= 1 and x.shape[0] % mesh.size == 0:
            return NamedSharding(mesh, P("x", *([None] * (x.ndim - 1))))
        return NamedSharding(mesh, P())  # replicated

    import jax

    return jax.tree.map(spec, params)


def check(label: str, reference: str | None, n_devices: int, settings: dict | None = None,
          hp: dict | None = None) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh

    from pytest_optim.conformance import tolerance
    from pytest_optim.candidates.selection import parse_selection
    from pytest_optim.conformance.compare import compare_updates
    from pytest_optim.conformance.runner import leaf_paths

    devices = jax.devices()
    if len(devices) < n_devices:
        return {"passed": None, "message": f"only {len(devices)} devices visible, {n_devices} needed"}
    (candidate,) = parse_selection(label, reference, settings, hp)
    if not candidate.traceable:
        return {"passed": None, "unsupported": True,
                "message": f"{label} is {candidate.style} code: JAX cannot trace it, so it cannot run sharded"}
    mesh = Mesh(np.array(devices[:n_devices]), ("x",))
    rng = seeding.rng(0)
    params = {"w": rng.standard_normal((8, 12)), "b": rng.standard_normal(16), "s": np.array(0.5)}
    params = jax.tree.map(lambda x: jnp.asarray(x, jnp.float32), params)
    grads = [jax.tree.map(lambda x: jnp.asarray(rng.standard_normal(x.shape), jnp.float32), params) for _ in range(3)]
    shard = _shardings(mesh, params)

    def run(sharded: bool):
        t = candidate.make(0.1) if candidate.is_factory else candidate.instance
        p = jax.device_put(params, shard) if sharded else params
        state = t.init(p)
        initial.append(state)
        update = jax.jit(t.update)
        out = []
        for g in grads:
            g = jax.device_put(g, shard) if sharded else g
            u, state = update(g, state, p)
            out.append(u)
        return out, state

    initial: list = []
    try:
        plain, _ = run(False)
    except Exception as exc:  # noqa: BLE001 - jax.jit(update) on one device: the tracing checks judge it
        return {"passed": None, "unsupported": True,
                "message": f"needs update under jax.jit, which raised {type(exc).__name__}: {exc}"}
    try:
        sharded, state = run(True)
    except Exception as exc:  # noqa: BLE001 - the unsharded run worked: sharded parameters are refused
        return {"passed": None, "unsupported": True,
                "message": f"update on sharded parameters raised {type(exc).__name__}: {exc}"}
    paths = leaf_paths(params)
    for path, u, want in zip(paths, jax.tree.leaves(sharded[-1]), jax.tree.leaves(shard)):
        if not u.sharding.is_equivalent_to(want, u.ndim):
            return {"passed": False, "message": f"update leaf {path} is sharded {u.sharding}, its parameter {want}"}
    param_shapes = {tuple(x.shape): s for x, s in zip(jax.tree.leaves(params), jax.tree.leaves(shard)) if x.ndim}
    warnings = []
    for when, st in (("after init", initial[-1]), ("after 3 updates", state)):
        for x in jax.tree.leaves(st):
            want = param_shapes.get(tuple(getattr(x, "shape", ())))
            if want is not None and hasattr(x, "sharding") and not x.sharding.is_equivalent_to(want, x.ndim):
                message = (f"{when}, a state leaf of shape {x.shape} is {x.sharding} while its parameter is "
                           f"{want}: the state does not follow the parameters' sharding (it is gathered on one "
                           "device; build it with zeros_like/full_like)")
                # After updates it is a failure for anyone. At init it is a memory problem, not a wrong
                # rule: the bundled set is held to it, a third party gets a warning.
                if when != "after init" or candidate.bundled:
                    return {"passed": False, "message": message}
                warnings.append(message)
                break
    to_np = lambda us: [[np.asarray(a, np.float64) for a in jax.tree.leaves(u)] for u in us]  # noqa: E731
    rtol = 2 * tolerance.update_rtol(candidate.spec, candidate.spec.defaults, "float32", len(grads))
    cmp = compare_updates(to_np(sharded), to_np(plain), paths, rtol, tolerance.floor("float32"))
    if not cmp.passed:
        return {"passed": False, "message": "sharded updates differ from unsharded: " + cmp.describe("the unsharded run")}
    return {"passed": True, "message": f"{n_devices} devices: updates equal, state follows sharding",
            "worst_ratio": cmp.worst_ratio, "warnings": warnings}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--optim", default=None, help="the candidate, as the parent's --optim (one check)")
    ap.add_argument("--serve", action="store_true", help="answer requests on stdin instead (see serve)")
    ap.add_argument("--reference", default=None)
    ap.add_argument("--kwargs", default="{}", help="the parent's --optim-kwargs (JSON)")
    ap.add_argument("--spec", action="append", default=[], help="a spec module to load (the parent's --optim-spec)")
    ap.add_argument("--devices", type=int, default=4)
    ap.add_argument("--hp", default="{}", help="a port run's --optim-hp, as JSON")
    ap.add_argument("--seed", type=int, default=0, help="the parent run's --optim-seed")
    args = ap.parse_args(argv)
    if args.serve:
        return serve(args.devices)
    if not args.optim:
        ap.error("--optim (or --serve) is required")
    import jax

    seeding.set_seed(args.seed)
    from pytest_optim.specs import load_module

    for module in args.spec:
        load_module(module)
    jax.config.update("jax_enable_x64", True)
    try:
        result = check(args.optim, args.reference, args.devices, json.loads(args.kwargs), json.loads(args.hp))
    except Exception as exc:  # noqa: BLE001 - one line back to the parent, whatever happened
        result = {"passed": False, "message": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))
    return 0


RESULT = "optim-sharding-result: "  # the server's answer lines (a candidate may print too)


def serve(n_devices: int) -> int:
    """Answer requests, one JSON object per line on stdin, with one RESULT line each on stdout.

    One process with N host devices serves a whole run (JAX starts once, instead of once per
    candidate: about 1.5 s each on a 2-core CPU); ``run_subprocess`` starts it and keeps it.
    """
    import jax

    from pytest_optim.specs import LOADED, load_module

    jax.config.update("jax_enable_x64", True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            seeding.set_seed(request["seed"])
            for module in request["spec"]:
                if module not in LOADED:
                    load_module(module)
            result = check(request["optim"], request["reference"], n_devices, request["kwargs"], request["hp"])
        except Exception as exc:  # noqa: BLE001 - one line back to the parent, whatever happened
            result = {"passed": False, "message": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(RESULT + json.dumps(result) + "\n")
        sys.stdout.flush()
    return 0


class _Server:
    """The serving process of this process, for one environment (devices, working directory, path):
    a candidate module of another directory (an in-process pytester run) gets a server of its own."""

    def __init__(self, key: tuple, env: dict, n_devices: int):
        import subprocess
        import tempfile

        self.key = key
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pytest_optim.conformance.sharding", "--serve", f"--devices={n_devices}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env, bufsize=1)

    def ask(self, request: dict, timeout: float) -> dict:
        import selectors
        import time

        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    import subprocess

                    self.close()
                    raise subprocess.TimeoutExpired(self.proc.args, timeout)
                line = self.proc.stdout.readline()
                if not line:  # the process ended: a crash in the candidate's code, or JAX's
                    code = self.proc.wait()
                    self.stderr.seek(0)
                    lines = self.stderr.read().strip().splitlines()
                    self.close()
                    return {"passed": False, "message": f"the sharding subprocess failed (exit {code}): "
                                                        f"{lines[-1] if lines else ''}"}
                if line.startswith(RESULT):
                    return json.loads(line[len(RESULT):])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()
        if _SERVER.get("current") is self:
            del _SERVER["current"]


_SERVER: dict = {}  # at most one: "current"


def _close_server() -> None:
    server = _SERVER.get("current")
    if server is not None:
        server.close()


def run_subprocess(label: str, reference: str | None, n_devices: int = 4, timeout: float = 300,
                   settings: dict | None = None, hp: dict | None = None) -> dict:
    """Run :func:`check` in a process with N host devices (or the accelerators present), started
    once and kept for the run's later candidates (``serve``)."""
    import atexit

    env = dict(os.environ)
    flag = f"--xla_force_host_platform_device_count={n_devices}"
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + flag).strip()
    env["PYTHONPATH"] = os.pathsep.join([os.getcwd(), *[p for p in sys.path if p]])
    from pytest_optim.specs import LOADED

    key = (n_devices, os.getcwd(), env["PYTHONPATH"], env["XLA_FLAGS"],
           env.get("JAX_DISABLE_MOST_OPTIMIZATIONS"), env.get("JAX_COMPILATION_CACHE_DIR"))
    server = _SERVER.get("current")
    if server is not None and server.key != key:
        server.close()
        server = None
    if server is None:
        if not _SERVER.get("atexit"):
            atexit.register(_close_server)
            _SERVER["atexit"] = True
        server = _SERVER["current"] = _Server(key, env, n_devices)
    request = {"optim": label, "reference": reference if reference and ":" in label else None,
               "kwargs": settings or {}, "hp": hp or {}, "seed": seeding.seed(), "spec": list(LOADED)}
    return server.ask(request, timeout)


if __name__ == "__main__":
    sys.exit(main())
