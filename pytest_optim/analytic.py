"""Closed-form answers, derived by hand (not from the oracle code), and the checks that use them.

* Gradient descent on a quadratic: x_k = x* + (I - eta A)^k (x0 - x*).
* Heavy-ball and Nesterov on a quadratic: in the eigenbasis of A each coordinate z with
  eigenvalue lam follows a 2x2 linear recurrence on (z, v); its k-th power is the closed form.
* The first two steps of every spec for given gradients g1, g2 (bias corrections written out).
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


def first_two_updates(spec: str, hp: dict, lr: float, g1: np.ndarray, g2: np.ndarray):
    """Updates of steps 1 and 2 written out by hand for each rule (float64)."""
    if spec == "sgd":
        return -lr * g1, -lr * g2
    if spec in ("momentum", "nesterov"):
        mu = hp["momentum"]
        v1, v2 = g1, mu * g1 + g2
        if spec == "momentum":
            return -lr * v1, -lr * v2
        return -lr * (g1 + mu * v1), -lr * (g2 + mu * v2)
    if spec == "adagrad":
        r0, eps = hp["initial_accumulator_value"], hp["eps"]
        return (-lr * g1 / (np.sqrt(r0 + g1**2) + eps), -lr * g2 / (np.sqrt(r0 + g1**2 + g2**2) + eps))
    if spec == "rmsprop":
        rho, eps = hp["decay"], hp["eps"]
        r1 = (1 - rho) * g1**2
        r2 = rho * r1 + (1 - rho) * g2**2
        return -lr * g1 / (np.sqrt(r1) + eps), -lr * g2 / (np.sqrt(r2) + eps)
    b1, b2, eps = hp["b1"], hp["b2"], hp["eps"]
    # bias-corrected first moments: m_hat_1 = g1, m_hat_2 = (b1 g1 + g2) / (1 + b1)
    m_hat2 = (b1 * g1 + g2) / (1 + b1)
    if spec == "adam":
        v_hat2 = (b2 * g1**2 + g2**2) / (1 + b2)
        return -lr * g1 / (np.abs(g1) + eps), -lr * m_hat2 / (np.sqrt(v_hat2) + eps)
    if spec == "adamax":
        u1 = np.abs(g1) + eps
        u2 = np.maximum(b2 * u1, np.abs(g2) + eps)
        return -lr * g1 / u1, -lr * m_hat2 / u2
    if spec == "nadam":
        # m_hat_t = b1 m_t/(1-b1^(t+1)) + (1-b1) g_t/(1-b1^t) with m_1 = (1-b1) g1
        n1 = b1 * (1 - b1) * g1 / (1 - b1**2) + g1
        m2 = (1 - b1) * (b1 * g1 + g2)
        n2 = b1 * m2 / (1 - b1**3) + (1 - b1) * g2 / (1 - b1**2)
        v_hat2 = (b2 * g1**2 + g2**2) / (1 + b2)
        return -lr * n1 / (np.abs(g1) + eps), -lr * n2 / (np.sqrt(v_hat2) + eps)
    if spec == "adabelief":
        er = hp["eps_root"]
        m1 = (1 - b1) * g1
        s1 = (1 - b2) * (g1 - m1) ** 2 + er
        m2 = b1 * m1 + (1 - b1) * g2
        s2 = b2 * s1 + (1 - b2) * (g2 - m2) ** 2 + er
        u1 = -lr * g1 / (np.sqrt(s1 / (1 - b2)) + eps)
        u2 = -lr * (m2 / (1 - b1**2)) / (np.sqrt(s2 / (1 - b2**2)) + eps)
        return u1, u2
    raise ValueError(spec)
