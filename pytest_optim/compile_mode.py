"""--optim-compile: how XLA compiles the conformance checks' programs (and --optim-jax-cache).

A conformance run compiles a few hundred small programs per candidate (one ``lax.scan`` trajectory
per regime, the problems' gradients, JAX's eager ops) and runs each for milliseconds, so XLA's
compile time is most of its wall time. ``fast`` (the default) asks XLA to compile quickly rather
than to emit fast code: ``jax_disable_most_optimizations`` (backend optimisation level 0, no
expensive LLVM passes) and, through ``XLA_FLAGS``, the CPU backend's classic elemental code path
instead of its MLIR fusion emitters, whose fixed cost per program is about half of each compile,
and one LLVM module per program. Measured on a 2-core CPU (jax 0.10.2): one candidate's ~60
checks 29 s -> 16 s. XLA reads ``XLA_FLAGS`` once, when it starts, so the run sets them before it
imports any candidate (Keras starts XLA on import); a conftest that starts XLA earlier keeps them
out of this process, not out of the processes it starts.

The verdicts do not depend on it: every tolerance is derived for any correct evaluation order of
the candidate's own formula (no check assumes a particular fusion), and the bundled optimizers'
report is the same in both modes (docs/timings.md). Benchmarks measure run time, so a run with
``--optim-bench`` always compiles as configured, and so do the programs that run far longer than
they compile, a workload's training (``compiled_for_run_time``).

XLA aborts the process on a flag it does not know, and its flags change between releases, so a
flag is used only after a child process has started XLA with it (once per jaxlib version; the
answer is kept in pytest's cache).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MODES = ("fast", "as-configured")
# The CPU backend's classic code path instead of its MLIR fusion emitters; one LLVM module per
# program instead of up to 32 compiled side by side (a fixed cost per part that a 2-core machine,
# its cores busy with other checks, pays in full: a trajectory's scan 0.15 s -> 0.09 s).
FAST_XLA_FLAGS = ("--xla_cpu_use_fusion_emitters=false", "--xla_cpu_parallel_codegen_split_count=1")
# The value each has as configured: XLA's default (xla/debug_options_flags.cc), since a fast run
# adds a flag only where the user's XLA_FLAGS do not name it (for compiled_for_run_time).
_CONFIGURED_VALUES = {"xla_cpu_use_fusion_emitters": True, "xla_cpu_parallel_codegen_split_count": 32}
_CACHE_KEY = "optim/xla-flags-accepted"
_JAX_ENV = "JAX_DISABLE_MOST_OPTIMIZATIONS"  # read by JAX when it is imported
_MARK = "PYTEST_OPTIM_FAST_COMPILE"  # what a fast run added to the environment its children inherit


def add_option(group: pytest.OptionGroup) -> None:
    group.addoption(
        "--optim-compile", metavar="|".join(MODES), default="fast", choices=MODES,
        help="'fast' (default): XLA compiles the checks' many small programs for compile speed, not run "
        "speed (jax_disable_most_optimizations; on CPU the classic code path instead of the MLIR fusion "
        "emitters), about twice as fast per candidate; verdicts do not depend on it; the workloads' trainings "
        "compile as configured. 'as-configured': "
        "JAX and XLA_FLAGS as they are. Runs with --optim-bench always compile as configured.",
    )


def _restore_at_cleanup(config: pytest.Config, names: tuple[str, ...]) -> dict[str, str | None]:
    """The environment variables ``names`` as they are now, put back when the run ends (an
    in-process pytester run leaves nothing behind); returns them."""
    saved = {k: os.environ.get(k) for k in names}

    def restore() -> None:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    config.add_cleanup(restore)
    return saved


def use_jax_cache(config: pytest.Config, directory: str | None) -> None:
    """JAX's persistent compilation cache in ``directory``, for this process and the ones it starts.

    Through the environment, so that subprocesses inherit it; every program is cached (a minimum
    compile time of 0: the checks compile many small programs, each a fraction of a second).
    """
    if not directory:
        return
    _restore_at_cleanup(config, ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"))
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(Path(directory).resolve())
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    if "jax" in sys.modules:  # already imported (in-process pytester runs): set it directly too
        import jax

        jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def configure(config: pytest.Config) -> str:
    """Apply the mode for this process and the processes it starts; returns what the header says."""
    import jax

    saved_env = _restore_at_cleanup(config, ("XLA_FLAGS", _JAX_ENV, _MARK))
    saved_opt = jax.config.read("jax_disable_most_optimizations")
    config.add_cleanup(lambda: jax.config.update("jax_disable_most_optimizations", saved_opt))
    if config.getoption("optim_compile") != "fast" or config.getoption("optim_bench", None):
        _undo_inherited(jax)
        return "as configured" + (" (benchmarks measure run time)" if config.getoption("optim_bench", None) else "")
    jax.config.update("jax_disable_most_optimizations", True)  # this process (JAX is imported)
    os.environ[_JAX_ENV] = "1"  # and the ones it starts: the sharding check's, a mutation score's
    present = (saved_env["XLA_FLAGS"] or "").split()
    # a flag the user set (to either value) is theirs; processes this one started inherit ours
    missing = [f for f in FAST_XLA_FLAGS if not any(p.split("=")[0] == f.split("=")[0] for p in present)]
    ours = missing if missing and _accepted(config, missing) else []
    if ours:
        os.environ["XLA_FLAGS"] = " ".join(present + ours)
    inherited = [f for f in (saved_env[_MARK] or "").split() if f in present]  # a fast parent's, ours too
    os.environ[_MARK] = " ".join([_JAX_ENV] + inherited + ours)  # what a child undoes to compile as configured
    if missing and not ours:
        return "fast (jax_disable_most_optimizations; this XLA does not know " + " ".join(missing) + ")"
    return "fast (jax_disable_most_optimizations, XLA_FLAGS " + " ".join(FAST_XLA_FLAGS) + ")"


def compiled_for_run_time(fun, **jit_kwargs):
    """``jax.jit(fun, **jit_kwargs)``, compiled as the user configured JAX and XLA even in a fast run.

    For programs that run far longer than they compile (a workload's training: hundreds of steps
    of a model), where the fast mode's unoptimised code is the slower choice (measured: the
    CI-sized trainings of adam, sgd and lamb on the three datasets, 48 s fast, 21 s as configured).
    Undoes only what this run added: its XLA flags through the program's ``compiler_options``, and
    ``jax_disable_most_optimizations`` while the program is traced and compiled (at its calls)."""
    import jax

    added = os.environ.get(_MARK, "").split()
    options = {name: value for name, value in _CONFIGURED_VALUES.items()
               if any(f.lstrip("-").split("=")[0] == name for f in added)}
    jitted = jax.jit(fun, **jit_kwargs, **({"compiler_options": options} if options else {}))
    if _JAX_ENV not in added:
        return jitted

    def call(*args, **kwargs):
        before = jax.config.read("jax_disable_most_optimizations")
        jax.config.update("jax_disable_most_optimizations", False)
        try:
            return jitted(*args, **kwargs)
        finally:
            jax.config.update("jax_disable_most_optimizations", before)

    return call


def _undo_inherited(jax) -> None:
    """A process started by a fast run (a benchmark run by pytester, say) inherits its settings;
    'as configured' means the user's, so what the parent added (listed in _MARK) is taken out."""
    added = os.environ.pop(_MARK, "").split()
    if _JAX_ENV in added:
        os.environ.pop(_JAX_ENV, None)
        jax.config.update("jax_disable_most_optimizations", False)
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if f not in added]
    if flags:
        os.environ["XLA_FLAGS"] = " ".join(flags)
    else:
        os.environ.pop("XLA_FLAGS", None)


def _accepted(config: pytest.Config, flags: list[str]) -> bool:
    """Whether XLA starts with ``flags``: asked of a child process (XLA aborts on an unknown flag)."""
    from importlib.metadata import version

    key = f"{version('jaxlib')} {' '.join(flags)}"
    cache = getattr(config, "cache", None)
    known = cache.get(_CACHE_KEY, {}) if cache is not None else {}
    if key not in known:
        env = dict(os.environ, XLA_FLAGS=" ".join([os.environ.get("XLA_FLAGS", "")] + flags).strip(),
                   JAX_PLATFORMS="cpu")
        probe = "import jax, jax.numpy as jnp; jnp.zeros(2).block_until_ready()"
        try:
            known[key] = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                                        timeout=120).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            known[key] = False
        if cache is not None:
            cache.set(_CACHE_KEY, known)
    return bool(known[key])
