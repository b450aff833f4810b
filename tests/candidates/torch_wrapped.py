# torch_wrapped.py: torch.optim optimizers as NumPy-style candidates for pytest-optim
# (kept identical to the code block in docs/third-party.md; tests/test_adapters.py checks that)
from functools import partial

import numpy as np
import torch

from pytest_optim import numpy_optimizer


class TorchStep:
    """step(params, grads) on lists of NumPy arrays, done by a torch.optim optimizer."""

    def __init__(self, optimizer, lr, **hyperparameters):
        self.optimizer, self.lr, self.hyperparameters = optimizer, lr, hyperparameters
        self.opt, self.count = None, 0

    def step(self, params, grads):
        if self.opt is None:  # built at the first step, when the shapes and dtypes are known
            # float64 stays float64; float32, float16 and bfloat16 (ml_dtypes.bfloat16) run in float32
            dtypes = [torch.float64 if p.dtype == np.float64 else torch.float32 for p in params]
            self.tensors = [torch.zeros(p.shape, dtype=d) for p, d in zip(params, dtypes)]
            self.opt = self.optimizer(self.tensors, lr=0.0, **self.hyperparameters)
        for group in self.opt.param_groups:  # a schedule is a function of the 0-based step count
            group["lr"] = self.lr(self.count) if callable(self.lr) else self.lr
        self.count += 1
        for t, p, g in zip(self.tensors, params, grads):
            t.numpy()[...] = p  # t shares memory with its NumPy view; bfloat16 -> float32 here
            t.grad = torch.from_numpy(np.array(g, t.numpy().dtype))
        default = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)  # scalar state (step, NAdam's mu_product) in float64
        try:
            self.opt.step()
        finally:
            torch.set_default_dtype(default)
        for p, t in zip(params, self.tensors):
            p[...] = t.numpy()  # in place, rounded to p's dtype


LR = {"learning_rate": "lr"}
BETAS = {**LR, ("b1", "b2"): "betas"}
sgd = numpy_optimizer(partial(TorchStep, torch.optim.SGD, momentum=0.0), rename=LR)
momentum = numpy_optimizer(partial(TorchStep, torch.optim.SGD), rename=LR)
nesterov = numpy_optimizer(partial(TorchStep, torch.optim.SGD, nesterov=True), rename=LR)
adagrad = numpy_optimizer(partial(TorchStep, torch.optim.Adagrad), rename=LR)
rmsprop = numpy_optimizer(partial(TorchStep, torch.optim.RMSprop), rename={**LR, "decay": "alpha"})
adam = numpy_optimizer(partial(TorchStep, torch.optim.Adam), rename=BETAS)
adamax = numpy_optimizer(partial(TorchStep, torch.optim.Adamax), rename=BETAS)
nadam = numpy_optimizer(partial(TorchStep, torch.optim.NAdam), rename=BETAS)  # Dozat's schedule: see below
