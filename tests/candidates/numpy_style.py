"""From-scratch NumPy optimizers in notebook style: ``step(params, grads)`` updates the param arrays in place.

They are not JAX transforms; the harness wraps them with
``pytest_optim.candidates.numpy_style.numpy_optimizer(cls, rename={...}, method="step")``.
"""

import numpy as np


class NumpyAdam:
    """Adam (Kingma & Ba Algorithm 1) in NumPy; moments m, v and step t kept as attributes."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = lr  # a float or a schedule step -> lr
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.t = 0
        self.m = None
        self.v = None

    def step(self, params, grads):
        if self.m is None:
            self.m = [np.zeros(np.shape(p), np.result_type(p, np.float32)) for p in params]
            self.v = [np.zeros(np.shape(p), np.result_type(p, np.float32)) for p in params]
        lr = float(self.lr(self.t) if callable(self.lr) else self.lr)
        self.t += 1
        for p, g, m, v in zip(params, grads, self.m, self.v):
            g = np.asarray(g, m.dtype)
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            p -= (lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(p.dtype)


class NumpyAdamEpsInside(NumpyAdam):
    """BUG (eps-placement): divides by sqrt(v_hat + eps) instead of sqrt(v_hat) + eps (a classic NumPy-notebook slip)."""

    def step(self, params, grads):
        if self.m is None:
            self.m = [np.zeros(np.shape(p), np.result_type(p, np.float32)) for p in params]
            self.v = [np.zeros(np.shape(p), np.result_type(p, np.float32)) for p in params]
        lr = float(self.lr(self.t) if callable(self.lr) else self.lr)
        self.t += 1
        for p, g, m, v in zip(params, grads, self.m, self.v):
            g = np.asarray(g, m.dtype)
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            p -= (lr * m_hat / np.sqrt(v_hat + self.eps)).astype(p.dtype)


class NumpySGD:
    """Plain gradient descent written in place (``p -= lr * g``), as in a notebook: its update is
    seen only as new - old, which carries the parameter's rounding (judged in the parameters)."""

    def __init__(self, lr=0.01):
        self.lr = lr
        self.t = 0

    def step(self, params, grads):
        lr = float(self.lr(self.t) if callable(self.lr) else self.lr)
        self.t += 1
        for p, g in zip(params, grads):
            p -= lr * np.asarray(g, p.dtype)


class NumpySGDHalfStep(NumpySGD):
    """BUG (precision): the step is computed in float16 before it is applied (relative error ~5e-4
    of every update: far above the parameters' rounding, so parameter-space judging still sees it)."""

    def step(self, params, grads):
        lr = float(self.lr(self.t) if callable(self.lr) else self.lr)
        self.t += 1
        for p, g in zip(params, grads):
            p -= (lr * np.asarray(g, np.float16)).astype(p.dtype)
