"""NumPy ports of optimizers as real libraries ship them, each one convention away from the spec.

Each class mirrors its library's code line by line (names, operation order, dtypes) and is checked
through ``pytest_optim.candidates.numpy_style.numpy_optimizer`` (see ``rename`` in tests/candidates/manifest.py).
They are not bugs in their libraries: each follows a convention the harness knows by name.

* ``NumpyMLAdaGrad``: numpy-ml's ``AdaGrad`` (numpy_ml/neural_nets/optimizers/optimizers.py): the
  cache starts at zeros and there is no initial-accumulator option (``**kwargs`` swallows
  ``initial_accumulator_value``): ``[zero_initial_accumulator]``.
* ``AutogradRMSprop``: autograd's ``rmsprop`` (autograd/misc/optimizers.py) as a step object:
  ``avg_sq_grad = np.ones(len(x))`` on the flattened parameters: ``[accumulator_starts_at_one]``.
* ``AdaBeliefPytorch``: the authors' adabelief-pytorch ``AdaBelief.step`` (0.2.0) with its
  defaults ``rectify=True, degenerated_to_sgd=True``: ``[radam_rectified]``.
"""

import math

import numpy as np


class NumpyMLAdaGrad:
    """numpy-ml ``AdaGrad(lr=0.01, eps=1e-7, clip_norm=None, lr_scheduler=None, **kwargs)``."""

    def __init__(self, lr=0.01, eps=1e-7, clip_norm=None, **kwargs):
        self.lr = lr  # a float, or (through the adapter) a schedule: step -> lr
        self.cur_step = 0
        self.cache = {}
        self.hyperparameters = {"id": "AdaGrad", "lr": lr, "eps": eps, "clip_norm": clip_norm}

    def update(self, param, param_grad, param_name, cur_loss=None):
        C = self.cache
        H = self.hyperparameters
        eps, clip_norm = H["eps"], H["clip_norm"]
        lr = self.lr(self.cur_step) if callable(self.lr) else self.lr

        if param_name not in C:
            C[param_name] = np.zeros_like(param_grad)

        # scale gradient to avoid explosion
        t = np.inf if clip_norm is None else clip_norm
        if np.linalg.norm(param_grad) > t:
            param_grad = param_grad * t / np.linalg.norm(param_grad)

        C[param_name] += param_grad**2
        update = lr * param_grad / (np.sqrt(C[param_name]) + eps)
        self.cache = C
        return param - update

    def step(self, params, grads):
        """numpy-ml's layers call ``update`` once per parameter, then advance the step."""
        out = [self.update(p, g, f"param{i}") for i, (p, g) in enumerate(zip(params, grads))]
        self.cur_step += 1
        return out


class AutogradRMSprop:
    """autograd's ``rmsprop(grad, x, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=10**-8)``.

    autograd runs the whole loop itself on the flattened parameters; here its loop body is one
    ``step``: ``avg_sq_grad = avg_sq_grad * gamma + g**2 * (1 - gamma)``;
    ``x = x - step_size * g/(np.sqrt(avg_sq_grad) + eps)``, with ``avg_sq_grad = np.ones(len(x))``.
    """

    def __init__(self, step_size=0.1, gamma=0.9, eps=10**-8):
        self.step_size, self.gamma, self.eps = step_size, gamma, eps
        self.i = 0
        self.avg_sq_grad = None

    def step(self, params, grads):
        # autograd.misc.flatten concatenates the leaves into one float vector (float64 here, so
        # that a tree mixing bfloat16 and float16 leaves flattens at all)
        sizes = [np.size(p) for p in params]
        x = np.concatenate([np.ravel(np.asarray(p, np.float64)) for p in params]) if params else np.zeros(0)
        g = np.concatenate([np.ravel(np.asarray(g, np.float64)) for g in grads]) if grads else np.zeros(0)
        if self.avg_sq_grad is None:
            self.avg_sq_grad = np.ones(len(x))
        step_size = self.step_size(self.i) if callable(self.step_size) else self.step_size
        self.avg_sq_grad = self.avg_sq_grad * self.gamma + g**2 * (1 - self.gamma)
        x = x - step_size * g / (np.sqrt(self.avg_sq_grad) + self.eps)
        self.i += 1
        out, start = [], 0
        for p, n in zip(params, sizes):
            out.append(x[start:start + n].reshape(np.shape(p)).astype(np.asarray(p).dtype))
            start += n
        return out


class AdaBeliefPytorch:
    """adabelief-pytorch 0.2.0 ``AdaBelief`` with its defaults, on NumPy arrays (one parameter group).

    The step is the original's, statement by statement: ``exp_avg_var`` gets eps added in place
    every step (the denominator of the non-rectified update is computed first, as in the original),
    and the rectified update divides by ``sqrt(exp_avg_var) + eps`` with no bias correction, the
    step size carrying sqrt(1 - beta2^t). The group's 10-slot ``buffer`` cache of (step, N_sma,
    step_size) is kept as in the original. eps_root has no counterpart (the adapter drops it).
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-16, weight_decay=0, amsgrad=False,
                 weight_decouple=True, fixed_decay=False, rectify=True, degenerated_to_sgd=True):
        self.group = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                          buffer=[[None, None, None] for _ in range(10)])
        self.weight_decouple, self.fixed_decay = weight_decouple, fixed_decay
        self.rectify, self.degenerated_to_sgd = rectify, degenerated_to_sgd
        self.state = {}
        self.n_steps = 0

    def step(self, params, grads):
        group = self.group
        lr = group["lr"](self.n_steps) if callable(group["lr"]) else group["lr"]
        for i, (p, grad) in enumerate(zip(params, grads)):
            state = self.state.setdefault(i, {})
            beta1, beta2 = group["betas"]
            if len(state) == 0:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p)
                state["exp_avg_var"] = np.zeros_like(p)

            if self.weight_decouple:
                if not self.fixed_decay:
                    p *= 1.0 - lr * group["weight_decay"]
                else:
                    p *= 1.0 - group["weight_decay"]
            elif group["weight_decay"] != 0:
                grad = grad + group["weight_decay"] * p

            exp_avg, exp_avg_var = state["exp_avg"], state["exp_avg_var"]
            state["step"] += 1
            bias_correction1 = 1 - beta1 ** state["step"]
            bias_correction2 = 1 - beta2 ** state["step"]

            exp_avg *= beta1
            exp_avg += (1 - beta1) * grad
            grad_residual = grad - exp_avg
            exp_avg_var *= beta2
            exp_avg_var += (1 - beta2) * grad_residual * grad_residual

            exp_avg_var += group["eps"]  # exp_avg_var.add_(eps), in place
            denom = np.sqrt(exp_avg_var) / math.sqrt(bias_correction2) + group["eps"]

            if not self.rectify:
                step_size = lr / bias_correction1
                p -= step_size * exp_avg / denom
                continue

            buffered = group["buffer"][int(state["step"] % 10)]
            if state["step"] == buffered[0]:
                N_sma, step_size = buffered[1], buffered[2]
            else:
                buffered[0] = state["step"]
                beta2_t = beta2 ** state["step"]
                N_sma_max = 2 / (1 - beta2) - 1
                N_sma = N_sma_max - 2 * state["step"] * beta2_t / (1 - beta2_t)
                buffered[1] = N_sma
                # more conservative since it's an approximated value
                if N_sma >= 5:
                    step_size = math.sqrt(
                        (1 - beta2_t) * (N_sma - 4) / (N_sma_max - 4) * (N_sma - 2) / N_sma * N_sma_max / (
                            N_sma_max - 2)) / (1 - beta1 ** state["step"])
                elif self.degenerated_to_sgd:
                    step_size = 1.0 / (1 - beta1 ** state["step"])
                else:
                    step_size = -1
                buffered[2] = step_size

            if N_sma >= 5:
                denom = np.sqrt(exp_avg_var) + group["eps"]
                p -= step_size * lr * exp_avg / denom
            elif step_size > 0:
                p -= step_size * lr * exp_avg
        self.n_steps += 1
