"""The pytest11 entry point. Imports nothing heavy: JAX loads only when an optimizer is selected.

Options live in one ``optim`` group. ``--optim`` selects what is under test; given on the
command line without test paths, it runs the bundled conformance suites (from any directory).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pytest_optim import compile_mode, option_checks, seeding
from pytest_optim.reporting import report as _report
from pytest_optim.specs import BUILTIN
from pytest_optim.outcomes import CheckFailure, NotApplicable, UsageError
from pytest_optim.candidates.selection import Candidate, parse_selection

CANDIDATES = pytest.StashKey[list]()
COMPILE = pytest.StashKey[str]()
REQUIRED = pytest.StashKey[frozenset]()
SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("optim", "pytest-optim: optimizer conformance and benchmarks")
    group.addoption(
        "--optim", metavar="NAME[,NAME...]|MODULE:ATTR", default=None,
        help=f"optimizers under test: spec names ({', '.join(BUILTIN)}, or one a --optim-spec module "
        "adds) for their bundled implementations, 'all', or MODULE:ATTR (a factory or transform; needs "
        "--optim-reference, or name its spec itself as MODULE:ATTR@SPEC). Without test paths this runs the "
        "bundled conformance suites.",
    )
    group.addoption(
        "--optim-reference", metavar="NAME|MODULE:ATTR[@SPEC]", default=None,
        help="canonical spec the MODULE:ATTR candidates implement (a spec name, as for --optim), unless one "
        "says MODULE:ATTR@SPEC; or another implementation (any framework) to check them against step by "
        "step, a port run: it replaces the float64 oracle, at the hyperparameters of --optim-hp.",
    )
    group.addoption(
        "--optim-hp", metavar="NAME=VALUE[,...]", default=None,
        help="a port run's hyperparameters (with --optim-reference=MODULE:ATTR), optax's names where a spec's "
        "name map applies (the reference's @SPEC, or the spec a torch/Keras class is known as: b1=0.9 reaches "
        "torch as betas), passed as given otherwise. The learning rate is each check's own.",
    )
    group.addoption(
        "--optim-kwargs", metavar="JSON", default=None,
        help="extra constructor keywords for every MODULE:ATTR candidate, as a JSON object passed as given, "
        "e.g. '{\"foreach\": true}' to check torch's foreach / fused / differentiable variants.",
    )
    group.addoption(
        "--optim-spec", metavar="MODULE", action="append", default=[],
        help="load a spec record from MODULE (it defines SPEC, a pytest_optim.Spec) so that its name can be "
        "given to --optim and --optim-reference; repeatable. Default: the ini value optim_spec.",
    )
    group.addoption(
        "--optim-report", metavar="PATH", default=None,
        help="write the conformance report to PATH.json and PATH.md (suffix .json/.md optional).",
    )
    group.addoption(
        "--optim-seed", metavar="N", type=int, default=0,
        help="seed for the random parts of the checks: problem data, starting points, test gradients (default 0).",
    )
    group.addoption(
        "--optim-timeout", metavar="SECONDS", type=float, default=300.0,
        help="time limit per conformance check (needs pytest-timeout); a candidate that hangs fails "
        "that check and the run goes on (default 300; 0 disables).",
    )
    group.addoption(
        "--optim-fail-fast", action="store_true", default=False,
        help="after a candidate's first failed check, skip its remaining checks (per process; "
        "other candidates go on). For screening many candidates quickly.",
    )
    group.addoption(
        "--optim-require", metavar="CAP[,CAP...]|all", default=None,
        help="optional capabilities a candidate must support: schedules, array_hyperparameters, "
        "traced_hyperparameters, jit, vmap, scan, sharding, or all. A capability the candidate refuses "
        "(raises when given it) is otherwise reported 'not supported' and counted n/a; required, it fails. "
        "Default: the ini value optim_require, else none.",
    )
    group.addoption(
        "--optim-jax-cache", metavar="DIR", default=None,
        help="keep JAX's persistent compilation cache in DIR, shared by this run's processes (xdist workers, "
        "the sharding subprocess, pytester runs) and later runs: a check compiled once is not compiled again. "
        "Verdicts do not depend on it. Default: the ini value optim_jax_cache, else off.",
    )
    group.addoption(
        "--optim-no-x64", action="store_true", default=False,
        help="do not enable jax_enable_x64 (float64 checks are then skipped).",
    )
    parser.addini("optim", "default --optim value when none is given on the command line", default=None)
    parser.addini("optim_jax_cache", "default --optim-jax-cache directory (relative to the rootdir)", default=None)
    parser.addini("optim_spec", "spec modules to load (see --optim-spec)", type="linelist", default=[])
    parser.addini("optim_require", "default --optim-require value (capabilities every candidate must support)",
                  default=None)
    # Options of the workload (MNIST/CIFAR-10/IMDB) and benchmark suites live beside their code.
    from pytest_optim.bench import options as bench_options
    from pytest_optim.workloads import options as workload_options

    workload_options.add_options(group)
    bench_options.add_options(group)
    compile_mode.add_option(group)


def _selection(config: pytest.Config) -> tuple[str | None, bool]:
    value = config.getoption("optim")
    if value is not None:
        return value, True
    return config.getini("optim") or None, False


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "optim_specs(*names): run this check only for candidates of these specs")
    config.addinivalue_line("markers", "optim_family(name): the check family this test reports under")
    config.addinivalue_line("markers", "optim_applies(fn): fn(candidate, params) says whether the check applies")
    config.addinivalue_line("markers", "optim_capability(name): the optional capability this check detects")
    # fixtures of the workload and benchmark suites (their modules import JAX lazily)
    config.pluginmanager.import_plugin("pytest_optim.workloads.fixtures")
    config.pluginmanager.import_plugin("pytest_optim.bench.fixtures")
    value, explicit = _selection(config)
    if value:  # before any candidate is imported: XLA reads XLA_FLAGS once, when it starts (Keras starts it)
        config.stash[COMPILE] = compile_mode.configure(config)
    try:
        _load_specs(config)
        candidates = parse_selection(value, config.getoption("optim_reference"), option_checks.kwargs(config),
                                     option_checks.hyperparameters(config))
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("optim_reference") and not any(":" in c.label for c in candidates):
        raise pytest.UsageError("--optim-reference only applies with --optim=MODULE:ATTR")
    option_checks.check_all(config)
    from pytest_optim.conformance.capabilities import parse_required

    try:
        config.stash[REQUIRED] = parse_required(config.getoption("optim_require") or config.getini("optim_require"))
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    seeding.configure(config)  # every random part of the checks draws from --optim-seed
    compile_mode.use_jax_cache(config, option_checks.jax_cache_dir(config))
    # --optim-bench-json is written by pytest_optim.bench.fixtures at the end of the run
    if config.getoption("optim_bench_json", None) and config.getoption("benchmark_json", None):
        raise pytest.UsageError("give either --optim-bench-json or --benchmark-json, not both")
    config.stash[CANDIDATES] = candidates
    if not candidates:
        return
    if not config.getoption("optim_no_x64"):
        import jax

        jax.config.update("jax_enable_x64", True)
    if explicit and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(SUITES_DIR)]
    config.pluginmanager.register(_report.ReportPlugin(config), "optim-report")
    if config.getoption("optim_fail_fast"):
        config.pluginmanager.register(FailFast(), "optim-fail-fast")


def _load_specs(config: pytest.Config) -> None:
    """--optim-spec / ini optim_spec: register the records of specs this package does not bundle."""
    from pytest_optim.specs import SpecError, load_module

    modules = config.getoption("optim_spec") or config.getini("optim_spec")
    if modules:
        from pytest_optim.specs import unregister_loaded

        config.add_cleanup(unregister_loaded(list(modules)))  # an in-process pytester run leaves none behind
    if modules and "" not in sys.path:
        sys.path.insert(0, "")  # the current directory applies, as for --optim=MODULE:ATTR
    for module in modules:
        try:
            load_module(module)
        except SpecError as exc:
            raise UsageError(str(exc)) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    candidates = config.stash.get(CANDIDATES, [])
    if not candidates:
        return []
    import jax
    import optax

    names = ", ".join(c.label if c.bundled else f"{c.label} (as {c.reference})" for c in candidates)
    devices = ", ".join(str(d) for d in jax.devices())
    required = sorted(config.stash.get(REQUIRED, frozenset()))
    return [
        f"optim: {names}",
        f"optim: jax {jax.__version__} ({jax.default_backend()}: {devices}), optax {optax.__version__}, "
        f"x64 {'on' if jax.config.jax_enable_x64 else 'off'}, seed {config.getoption('optim_seed')}, "
        f"required capabilities: {', '.join(required) or 'none'}"
        + (" (bundled optimizers: all)" if any(c.bundled for c in candidates) else ""),
        f"optim: compile {config.stash.get(COMPILE, 'as configured')}",
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "optim_candidate" in metafunc.fixturenames:
        candidates = metafunc.config.stash.get(CANDIDATES, [])
        marker = metafunc.definition.get_closest_marker("optim_specs")
        if marker is not None:
            candidates = [c for c in candidates if c.reference in marker.args]
        metafunc.parametrize("optim_candidate", candidates, ids=[c.label for c in candidates], scope="session")
    if "optim_problem" in metafunc.fixturenames:
        from pytest_optim.conformance.problems import PROBLEM_NAMES

        metafunc.parametrize("optim_problem", PROBLEM_NAMES, indirect=True, scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop checks that do not apply to any selected candidate (e.g. GD closed forms for adam)."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        needs = "optim_candidate" in getattr(item, "fixturenames", ())
        value = callspec.params.get("optim_candidate") if callspec is not None else None
        applies = item.get_closest_marker("optim_applies")
        if needs and not isinstance(value, Candidate):  # empty parameter set: nothing applies
            drop.append(item)
        elif needs and applies is not None and not applies.args[0](value, callspec.params):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    limit = config.getoption("optim_timeout")
    if limit and limit > 0 and config.pluginmanager.hasplugin("timeout"):
        for item in items:
            if "optim_candidate" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("timeout"):
                item.add_marker(pytest.mark.timeout(limit))


def required_of(config: pytest.Config, candidate) -> frozenset[str]:
    """Capabilities this candidate must support: --optim-require (or its ini value); the bundled
    optimizers promise all of them."""
    from pytest_optim.conformance.capabilities import NAMES

    if isinstance(candidate, Candidate) and candidate.bundled:
        return frozenset(NAMES)
    return config.stash.get(REQUIRED, frozenset())


class FailFast:
    """--optim-fail-fast: skip a candidate's remaining checks once one has failed (in this process)."""

    def __init__(self) -> None:
        self.failed: set[str] = set()

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        callspec = getattr(item, "callspec", None)
        candidate = callspec.params.get("optim_candidate") if callspec is not None else None
        if isinstance(candidate, Candidate) and candidate.label in self.failed:
            pytest.skip(f"not run: {candidate.label} already failed a check (--optim-fail-fast)")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.update(v for k, v in report.user_properties if k == "optim_candidate")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A failed conformance check is reported by its message alone, not a traceback of the harness."""
    from pytest_optim.conformance.capabilities import NotSupported

    try:
        return (yield)
    except CheckFailure as exc:
        message = str(exc)
    except NotSupported as exc:
        callspec = getattr(item, "callspec", None)
        candidate = callspec.params.get("optim_candidate") if callspec is not None else None
        if exc.capability not in required_of(item.config, candidate):
            pytest.skip(f"not supported: {exc.capability}: {exc.reason}")
        who = f"{candidate.label} (spec {candidate.reference})" if isinstance(candidate, Candidate) else "the candidate"
        message = (f"[{exc.capability}] {who} — {exc.capability} is required (--optim-require) but not supported\n"
                   f"  {exc.reason}")
    except NotApplicable as exc:
        pytest.skip(f"not applicable: {exc}")
    pytest.fail(message, pytrace=False)


# -- fixtures for the suites and for users' own tests -------------------------------------------


@pytest.fixture(scope="session")
def optim_candidate(request):
    """The optimizer under test (parametrized over --optim): ``.make(lr, **hp)`` builds it."""
    return request.param


@pytest.fixture(scope="session")
def optim_spec(optim_candidate):
    """The canonical spec the candidate claims: defaults, rule, oracle, optax reference."""
    return optim_candidate.spec


@pytest.fixture(scope="session")
def optim_problem(request):
    """A test problem with its exact minimizer (parametrized over all problems)."""
    from pytest_optim.conformance import problems

    return problems.get(request.param)


@pytest.fixture
def optim_record(request):
    """Record a check's Result for the conformance report: ``optim_record(result)``."""

    def record(result):
        request.node.user_properties.append(("optim_result", _report.result_dict(result)))
        return result

    return record


@pytest.fixture(scope="session")
def optim_seed(request) -> int:
    return request.config.getoption("optim_seed")


@pytest.fixture
def optim_x64(request):
    """Call with a dtype name: skips the test when float64 is asked for but x64 is off."""

    def need(dtype: str) -> None:
        if dtype == "float64":
            import jax

            if not jax.config.jax_enable_x64:
                pytest.skip("float64 check: x64 is off (--optim-no-x64)")

    return need
