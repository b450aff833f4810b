"""Test problems with exact answers, parameters presented as nested pytrees.

Every problem is built in float64 NumPy (its data and its exact minimizer), and exposes a JAX
loss over a *nested* parameter pytree; the pytree is a view of one flat vector, so the exact
answers stay simple linear algebra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import numpy as np

from pytest_optim import seeding

# Nested layout used for 8-dimensional problems: dicts, a tuple, a list and a scalar leaf.
NESTED_8 = {"dense": {"kernel": (2, 2), "bias": (2,)}, "head": ((1,), [()])}


def _leaf_shapes(layout) -> list[tuple[int, ...]]:
    import jax

    return [tuple(s) for s in jax.tree.leaves(layout, is_leaf=lambda x: isinstance(x, tuple) and all(isinstance(i, int) for i in x))]


def unflatten(layout, vector: np.ndarray):
    """The nested pytree (NumPy leaves) whose leaves, in JAX order, are slices of ``vector``."""
    import jax

    is_shape = lambda x: isinstance(x, tuple) and all(isinstance(i, int) for i in x)  # noqa: E731
    leaves, treedef = jax.tree.flatten(layout, is_leaf=is_shape)
    out, start = [], 0
    for shape in leaves:
        size = int(np.prod(shape, dtype=int))
        out.append(np.asarray(vector[start : start + size]).reshape(shape))
        start += size
    assert start == vector.size, (start, vector.size)
    return jax.tree.unflatten(treedef, out)


def flatten(tree) -> Any:
    import jax
    import jax.numpy as jnp

    leaves = jax.tree.leaves(tree)
    return jnp.concatenate([jnp.ravel(x) for x in leaves]) if leaves else jnp.zeros(0)


@dataclass(frozen=True)
class Problem:
    """A differentiable objective with its exact minimizer and (where known) curvature bounds."""

    name: str
    layout: Any  # nested pytree of shapes
    x0: np.ndarray  # float64 starting point (flat)
    loss_flat: Callable  # jnp loss of the flat vector
    minimizer: np.ndarray | None  # float64, flat
    mu: float | None = None  # strong convexity
    L: float | None = None  # smoothness
    convex: bool = True
    # learning rates that make every spec stable here, keyed by family (see lr_for)
    lrs: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def params0(self, dtype="float32"):
        import jax.numpy as jnp

        import jax

        return jax.tree.map(lambda x: jnp.asarray(x, dtype), unflatten(self.layout, self.x0))

    def loss(self, params):
        return self.loss_flat(flatten(params))

    @cached_property
    def grad(self) -> Callable:
        """jitted gradient of the pytree loss; shared by every check that uses this problem."""
        import jax

        return jax.jit(jax.grad(self.loss))

    def lr_for(self, spec) -> float:
        """The learning rate at which ``spec``'s rule is stable here (its record's step family)."""
        return self.lrs[spec.tuning.step_family]

    def minimizer_tree(self):
        return unflatten(self.layout, self.minimizer)



def _orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def quadratic(name: str, condition: float, stream: int = 0, layout=NESTED_8) -> Problem:
    """f(x) = 1/2 x'Ax - b'x with eigenvalues log-spaced in [1/condition, 1]: mu, L, x* exact.

    The run's seed (``stream``: this problem's random stream, see seeding.py) draws the rotation,
    b and the start; the eigenvalues, hence mu, L and the conditioning, are the same for any seed.
    """
    import jax.numpy as jnp

    n = sum(int(np.prod(s, dtype=int)) for s in _leaf_shapes(layout))
    rng = seeding.rng(stream)
    eigs = np.geomspace(1.0 / condition, 1.0, n)
    q = _orthogonal(n, rng)
    a = (q * eigs) @ q.T
    a = (a + a.T) / 2
    b = rng.standard_normal(n)
    x_star = np.linalg.solve(a, b)
    x0 = x_star + rng.standard_normal(n)  # start at distance ~sqrt(n) from the answer
    a_j, b_j = jnp.asarray(a), jnp.asarray(b)

    def loss(x):
        a_, b_ = a_j.astype(x.dtype), b_j.astype(x.dtype)
        return 0.5 * x @ (a_ @ x) - b_ @ x

    return Problem(
        name, layout, x0, loss, x_star, mu=float(eigs[0]), L=float(eigs[-1]),
        lrs={"gd": 1.0, "momentum": 0.5, "adaptive": 0.05},
        extra={"A": a, "b": b, "eigenvalues": eigs, "Q": q},
    )


def linear_regression(stream: int = 0) -> Problem:
    """Seed 000's setting: 5 features plus a bias, mean squared error; minimizer by least squares.

    The run's seed draws the features, true weights and noise (``stream``: see seeding.py).
    """
    import jax.numpy as jnp

    rng = seeding.rng(stream)
    n_samples, n_features = 200, 5
    x = rng.standard_normal((n_samples, n_features))
    w_true, b_true = rng.standard_normal(n_features), 0.5
    y = x @ w_true + b_true + 0.1 * rng.standard_normal(n_samples)
    design = np.hstack([x, np.ones((n_samples, 1))])
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)
    hessian = design.T @ design / n_samples
    eigs = np.linalg.eigvalsh(hessian)
    layout = {"kernel": (n_features,), "offset": ()}  # JAX sorts keys: kernel first
    x_j, y_j = jnp.asarray(x), jnp.asarray(y)

    def loss(theta):
        w, b = theta[:n_features], theta[n_features]
        r = x_j.astype(theta.dtype) @ w + b - y_j.astype(theta.dtype)
        return 0.5 * jnp.mean(r * r)

    return Problem(
        "linear_regression", layout, np.zeros(n_features + 1), loss, solution,
        mu=float(eigs[0]), L=float(eigs[-1]),
        lrs={"gd": 1.0 / float(eigs[-1]), "momentum": 0.5 / float(eigs[-1]), "adaptive": 0.05},
    )


def logistic_regression(stream: int = 0, l2: float = 1e-2) -> Problem:
    """L2-regularised logistic regression (strongly convex); minimizer by float64 Newton steps.

    The run's seed draws the features and labels (``stream``: see seeding.py); the true weights
    and l2 (so mu) are fixed.
    """
    import jax
    import jax.numpy as jnp

    rng = seeding.rng(stream)
    n_samples, n_features = 200, 3
    x = rng.standard_normal((n_samples, n_features))
    logits = x @ np.array([1.5, -2.0, 0.5]) + 0.3
    y = (rng.random(n_samples) < 1 / (1 + np.exp(-logits))).astype(np.float64)
    design = np.hstack([x, np.ones((n_samples, 1))])

    def newton() -> np.ndarray:
        theta = np.zeros(n_features + 1)
        for _ in range(50):
            p = 1 / (1 + np.exp(-design @ theta))
            g = design.T @ (p - y) / n_samples + l2 * theta
            h = (design.T * (p * (1 - p))) @ design / n_samples + l2 * np.eye(n_features + 1)
            theta = theta - np.linalg.solve(h, g)
            if np.linalg.norm(g) < 1e-15:
                break
        return theta

    theta_star = newton()
    # L <= lambda_max(X'X)/(4n) + l2 ; mu >= l2
    big_l = float(np.linalg.eigvalsh(design.T @ design)[-1] / (4 * n_samples) + l2)
    d_j, y_j = jnp.asarray(design), jnp.asarray(y)

    def loss(theta):
        z = d_j.astype(theta.dtype) @ theta
        yy = y_j.astype(theta.dtype)
        return jnp.mean(jax.nn.softplus(z) - yy * z) + 0.5 * l2 * theta @ theta

    return Problem(
        "logistic_regression", {"kernel": (n_features,), "offset": ()}, np.zeros(n_features + 1), loss,
        theta_star, mu=l2, L=big_l,
        lrs={"gd": 1.0 / big_l, "momentum": 0.5 / big_l, "adaptive": 0.05},
    )


def matrix_least_squares(stream: int = 41, n_in: int = 4, n_out: int = 6) -> Problem:
    """A dense layer fit by least squares: 1/2 mean ||X W + b - Y||^2 with W (in, out) = (4, 6).

    For matrix-level rules (Muon, Adafactor's factored moments, LAMB's per-leaf trust ratio): a
    2-D leaf in JAX's (in, out) layout beside a 1-D bias; wider than tall (in < out), so a shape
    scale such as Muon's sqrt(max(1, out/in)) is not 1, and reading the kernel as torch's (out, in)
    shows. The minimizer is the least-squares solution;
    the Hessian is I_out (x) D'D/n with D = [X, 1], so mu and L are D'D/n's extreme eigenvalues.
    The run's seed draws X, the true weights and the noise (``stream``: see seeding.py).
    """
    import jax.numpy as jnp

    rng = seeding.rng(stream)
    n_samples = 64
    x = rng.standard_normal((n_samples, n_in))
    w_true, b_true = rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out)
    y = x @ w_true + b_true + 0.1 * rng.standard_normal((n_samples, n_out))
    design = np.hstack([x, np.ones((n_samples, 1))])
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)  # (in + 1, out): W then b
    eigs = np.linalg.eigvalsh(design.T @ design / n_samples)
    layout = {"bias": (n_out,), "kernel": (n_in, n_out)}  # JAX sorts keys: bias first
    x_j, y_j = jnp.asarray(x), jnp.asarray(y)

    def loss(theta):
        b, w = theta[:n_out], theta[n_out:].reshape(n_in, n_out)
        r = x_j.astype(theta.dtype) @ w + b - y_j.astype(theta.dtype)
        return 0.5 * jnp.sum(r * r) / n_samples

    minimizer = np.concatenate([solution[-1], solution[:-1].ravel()])
    x0 = np.concatenate([np.zeros(n_out), 0.5 * rng.standard_normal(n_in * n_out)])
    return Problem(
        "matrix_least_squares", layout, x0, loss, minimizer, mu=float(eigs[0]), L=float(eigs[-1]),
        lrs={"gd": 1.0 / float(eigs[-1]), "momentum": 0.5 / float(eigs[-1]), "adaptive": 0.05},
    )


def rosenbrock() -> Problem:
    """(1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1): non-convex smoke check, minimizer (1, 1)."""

    def loss(v):
        x, y = v[0], v[1]
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    return Problem(
        "rosenbrock", {"x": (), "y": ()}, np.array([-1.2, 1.0]), loss, np.array([1.0, 1.0]),
        convex=False, lrs={"gd": 1e-3, "momentum": 2e-4, "adaptive": 1e-2},
    )


def all_problems() -> dict[str, Problem]:
    return {
        p.name: p
        for p in (
            quadratic("quadratic_k10", 10.0),
            quadratic("quadratic_k1e4", 1e4, stream=1),
            linear_regression(),
            logistic_regression(),
            rosenbrock(),
            matrix_least_squares(),
        )
    }


@seeding.per_seed_cache
def _built() -> dict[str, Problem]:
    return all_problems()


def get(name: str) -> Problem:
    """Problems are built once per process and seed and shared (their jitted gradients too)."""
    return _built()[name]


PROBLEM_NAMES = ("quadratic_k10", "quadratic_k1e4", "linear_regression", "logistic_regression", "rosenbrock")
# with a 2-D leaf of a realistic aspect: checked for rules that are not elementwise (record.GRANULARITIES)
MATRIX_PROBLEMS = ("matrix_least_squares",)
