"""Closed-form answers, derived by hand (not from the oracle code), and the checks that use them.

* Gradient descent on a quadratic: x_k = x* + (I - eta A)^k (x0 - x*).
* Heavy-ball and Nesterov on a quadratic: in the eigenbasis of A each coordinate z with
  eigenvalue lam follows a 2x2 linear recurrence on (z, v); its k-th power is the closed form.
* (The first two steps of every rule, written out by hand, live in its spec module: pytest_optim/specs/.)
* Linear rates on strongly convex quadratics from the spectral radius of the iteration matrix,
  with the textbook bounds (1 - mu/L for GD at eta = 1/L; (sqrt(k)-1)/(sqrt(k)+1) for heavy
  ball at its optimal parameters; 1 - 1/sqrt(k) for Nesterov at eta = 1/L).
"""

from __future__ import annotations

import numpy as np


def iteration_matrix(spec: str, lam: float, lr: float, momentum: float = 0.0) -> np.ndarray:
    """State (z, v) -> next state for one eigen-direction with eigenvalue lam (v = velocity)."""
    if spec == "sgd":
        return np.array([[1 - lr * lam, 0.0], [0.0, 0.0]])
    if spec == "momentum":  # v' = mu v + lam z ; z' = z - lr v'
        return np.array([[1 - lr * lam, -lr * momentum], [lam, momentum]])
    if spec == "nesterov":  # v' = mu v + lam z ; z' = z - lr (lam z + mu v')
        return np.array([[1 - lr * lam * (1 + momentum), -lr * momentum**2], [lam, momentum]])
    raise ValueError(spec)


def closed_form_iterates(spec, eigs, q, x0, x_star, lr, momentum, steps) -> np.ndarray:
    """x_k for k = 1..steps, shape (steps, n), by powers of the per-direction iteration matrix."""
    z0 = q.T @ (x0 - x_star)
    out = np.empty((steps, len(x0)))
    mats = [iteration_matrix(spec, lam, lr, momentum) for lam in eigs]
    powers = [np.eye(2) for _ in eigs]
    for k in range(steps):
        powers = [m @ p for m, p in zip(mats, powers)]
        z = np.array([p[0, 0] * z0[i] for i, p in enumerate(powers)])  # v0 = 0
        out[k] = x_star + q @ z
    return out


def spectral_rate(spec, eigs, lr, momentum) -> tuple[float, float]:
    """(max spectral radius over the eigen-directions, max_k ||M^k|| growth constant)."""
    radius = max(max(abs(np.linalg.eigvals(iteration_matrix(spec, lam, lr, momentum)))) for lam in eigs)
    growth = 1.0
    for lam in eigs:
        m, p = iteration_matrix(spec, lam, lr, momentum), np.eye(2)
        for _ in range(200):
            p = m @ p
            growth = max(growth, np.linalg.norm(p, 2))
    return float(radius), float(growth)


def rate_bound(spec, eigs, lr, momentum, steps) -> np.ndarray:
    """B_k = max over eigen-directions of |(M^k)_00|: ||x_k - x*|| <= B_k ||x0 - x*|| (v0 = 0)."""
    out = np.zeros(steps)
    for lam in eigs:
        m, p = iteration_matrix(spec, lam, lr, momentum), np.eye(2)
        for k in range(steps):
            p = m @ p
            out[k] = max(out[k], abs(p[0, 0]))
    return out


def optimal_parameters(spec: str, mu: float, big_l: float) -> tuple[float, float, float]:
    """(lr, momentum, textbook rate) at the classical tuning for a mu/L quadratic."""
    kappa = big_l / mu
    if spec == "sgd":
        return 1 / big_l, 0.0, 1 - mu / big_l
    if spec == "momentum":  # Polyak's optimal heavy ball
        lr = 4 / (np.sqrt(big_l) + np.sqrt(mu)) ** 2
        beta = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
        return lr, beta, (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    if spec == "nesterov":  # Nesterov's constant-momentum scheme for strongly convex functions
        return 1 / big_l, (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), 1 - 1 / np.sqrt(kappa)
    raise ValueError(spec)
