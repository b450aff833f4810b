"""Workloads: a dataset (NumPy arrays from ``pytest_optim.workloads.data``) + a model from
``pytest_optim.workloads.models`` + a training loop that takes any optax-style transform.

A :class:`Workload` has ``init(seed)``, ``loss(params, x, y)``, ``batches(...)``, ``evaluate(params)``
and ``train(transform, ...)``; the ``mnist_workload`` / ``cifar10_workload`` / ``imdb_workload``
fixtures return one, so users can train their own optimizer in their own tests::

    def test_my_adam_trains(mnist_workload):
        run = mnist_workload.train(my_adam(1e-3))
        assert run.accuracy > 0.9

Training jits one step and runs it with ``lax.scan`` over chunks of steps (a quarter epoch),
evaluating on the test set after each chunk; candidates that cannot be traced (NumPy-style) run
eagerly with a jitted gradient.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from pytest_optim.compile_mode import compiled_for_run_time as for_run_time
from pytest_optim.workloads.data import Arrays

# -- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Size of a workload: examples used, model, batch size, epochs."""

    n_train: int | None  # None: the whole split
    n_test: int | None
    batch_size: int
    epochs: int
    model: str  # human description
    evals_per_epoch: int = 4
    equivalence_steps: int = 10  # K steps of the model-level reference comparison
    extra: tuple[tuple[str, Any], ...] = ()

    def get(self, key, default=None):
        return dict(self.extra).get(key, default)


SETTINGS = {
    # CI-sized: every bundled optimizer on all three in a few minutes on a 2-core CPU.
    ("mnist", "ci"): Settings(12_000, 10_000, 128, 2, "MLP 784-256-10 (ReLU)", extra=(("hidden", (256,)),)),
    ("cifar10", "ci"): Settings(4_000, 1_000, 64, 4, "CNN conv3x3/2 x3 (16-32-32) + mean pool + dense"),
    ("imdb_reviews", "ci"): Settings(10_000, 5_000, 64, 2, "32-d embeddings pooled by sum/sqrt(length) + linear",
                                     extra=(("vocab", 10_000), ("max_len", 256), ("dim", 32))),
    # seed 001: full MNIST, 10 epochs. The seed loads MNIST "using PyTorch" into a from-scratch JAX
    # MLP, which is JAX's "Training a simple neural network, with PyTorch data loading" tutorial:
    # raw 0-255 pixels (FlattenAndCast), N(0, 0.01^2) weights and biases, 784-512-512-10, batch 128,
    # loss -mean(log_softmax * one_hot) over batch *and* classes (= cross-entropy / 10). The raw
    # pixels are what let plain GD at lr 0.01 reach 97 % in 10 epochs (docs/workloads.md).
    ("mnist", "full"): Settings(None, None, 128, 10, "MLP 784-512-512-10 (ReLU), seed-001 setting",
                                extra=(("hidden", (512, 512)), ("pixel_divisor", 1.0), ("normal_init", 0.01),
                                       ("loss_scale", 0.1))),
    ("cifar10", "full"): Settings(None, None, 64, 10, "CNN conv3x3/2 x3 (32-64-64) + mean pool + dense"),
    ("imdb_reviews", "full"): Settings(None, None, 64, 5, "32-d embeddings pooled by sum/sqrt(length) + linear",
                                       extra=(("vocab", 20_000), ("max_len", 256), ("dim", 32))),
}

# The learning rate and accuracy threshold of each spec on each workload are in its record
# (``spec.tuning``: chosen from short sweeps on the CI-sized workloads, see docs/workloads.md;
# --optim-full uses seed 001's settings where the record has them).
_RECORD_KEY = {"imdb_reviews": "imdb"}  # workload name -> the dataset key of the records


def learning_rate(spec, dataset: str, full: bool = False) -> float:
    key = _RECORD_KEY.get(dataset, dataset)
    if full and key in spec.tuning.full_workload_lr:
        return spec.tuning.full_workload_lr[key]
    return spec.tuning.workload_lr[key]


def threshold(spec, dataset: str, full: bool = False) -> float:
    """Test accuracy the run must reach: the measured accuracy minus a margin (see the record)."""
    key = _RECORD_KEY.get(dataset, dataset)
    if full and key in spec.tuning.full_thresholds:
        return spec.tuning.full_thresholds[key]
    return spec.tuning.thresholds[key]


# -- a training run ------------------------------------------------------------------------------


@dataclass
class Run:
    """What one training run measured (per step: loss, gradient norm; per eval: test accuracy)."""

    label: str
    dataset: str
    learning_rate: float
    losses: np.ndarray
    grad_norms: np.ndarray
    eval_steps: list[int] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    compile_seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.test_accuracy[-1] if self.test_accuracy else float("nan")

    @property
    def finite(self) -> bool:
        return bool(np.all(np.isfinite(self.losses)) and np.all(np.isfinite(self.grad_norms)))

    def curves(self) -> dict:
        return {
            "label": self.label, "dataset": self.dataset, "learning_rate": self.learning_rate,
            "loss": [float(v) for v in self.losses], "grad_norm": [float(v) for v in self.grad_norms],
            "eval_steps": list(self.eval_steps), "test_accuracy": list(self.test_accuracy),
            "test_loss": list(self.test_loss), "seconds": self.seconds,
        }


# -- the workload --------------------------------------------------------------------------------


@dataclass
class Workload:
    name: str
    title: str
    settings: Settings
    init_fn: Callable  # key -> params
    apply_fn: Callable  # (params, x) -> logits
    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    notes: str = ""
    scan: bool = True  # lax.scan over a chunk of steps (False: one jitted step per Python iteration)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def steps_per_epoch(self) -> int:
        return int(self.x_train.shape[0]) // self.settings.batch_size

    def init(self, seed: int = 0):
        import jax

        return self.init_fn(jax.random.PRNGKey(seed))

    def loss(self, params, x, y):
        from pytest_optim.workloads.models import cross_entropy

        # loss_scale 0.1 is seed 001's -mean over the 10 one-hot columns as well as the batch.
        return self.settings.get("loss_scale", 1.0) * cross_entropy(self.apply_fn(params, x), y)

    def batch_indices(self, epochs: int | None = None, seed: int = 0) -> np.ndarray:
        """(steps, batch_size) int32 indices: one shuffled permutation per epoch, remainder dropped."""
        epochs = self.settings.epochs if epochs is None else epochs
        rng = np.random.default_rng(seed)
        n, bs = int(self.x_train.shape[0]), self.settings.batch_size
        per = n // bs
        return np.concatenate([rng.permutation(n)[: per * bs].reshape(per, bs) for _ in range(epochs)]).astype(np.int32)

    def batches(self, epochs: int | None = None, seed: int = 0) -> Iterator[tuple[Any, Any]]:
        """Training batches ``(x, y)`` (JAX arrays) in the order ``train`` uses them."""
        for idx in self.batch_indices(epochs, seed):
            yield self.x_train[idx], self.y_train[idx]

    def _jitted(self):
        if "eval" not in self._cache:
            import jax
            import jax.numpy as jnp

            from pytest_optim.workloads.models import accuracy, cross_entropy

            def ev(params, x, y):
                logits = self.apply_fn(params, x)
                return cross_entropy(logits, y), accuracy(logits, y)

            def loss_grad(params, x, y):
                return jax.value_and_grad(self.loss)(params, x, y)

            def gnorm(g):
                return jnp.sqrt(sum(jnp.sum(jnp.square(v.astype(jnp.float32))) for v in jax.tree.leaves(g)))

            # these run for every step and every test batch: compiled for run time, not compile time
            self._cache.update(eval=for_run_time(ev), loss_grad=for_run_time(loss_grad), gnorm=jax.jit(gnorm))
        return self._cache

    def evaluate(self, params, chunk: int = 5000) -> dict:
        """Test-set loss and accuracy (in chunks of ``chunk`` examples)."""
        ev = self._jitted()["eval"]
        n = int(self.x_test.shape[0])
        tot_loss = tot_acc = 0.0
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            loss, acc = ev(params, self.x_test[a:b], self.y_test[a:b])
            tot_loss += float(loss) * (b - a)
            tot_acc += float(acc) * (b - a)
        return {"loss": tot_loss / n, "accuracy": tot_acc / n}

    def train(self, transform, *, learning_rate: float = float("nan"), label: str = "", epochs: int | None = None,
              seed: int = 0, traceable: bool = True, evals_per_epoch: int | None = None) -> Run:
        """Train from ``init(seed)`` with ``transform``; the test set is evaluated ``evals_per_epoch``
        times per epoch. ``traceable=False`` runs the optimizer eagerly (NumPy-style candidates)."""
        import jax
        import jax.numpy as jnp

        from pytest_optim.conformance.runner import apply_updates

        per_eval = max(1, self.steps_per_epoch // (evals_per_epoch or self.settings.evals_per_epoch))
        idx = self.batch_indices(epochs, seed)
        idx = idx[: len(idx) // per_eval * per_eval] if len(idx) >= per_eval else idx  # equal chunks
        params = self.init(seed)
        state = transform.init(params)
        fns = self._jitted()
        losses, norms, run = [], [], Run(label, self.name, learning_rate, np.zeros(0), np.zeros(0))
        t0 = time.perf_counter()
        chunk_fn = None
        if traceable:
            def step(carry, bidx, xtr, ytr):
                p, s = carry
                loss, g = jax.value_and_grad(self.loss)(p, xtr[bidx], ytr[bidx])
                u, s = transform.update(g, s, p)
                return (apply_updates(p, u), s), (loss, fns["gnorm"](g))

            if self.scan:
                chunk_fn = for_run_time(lambda p, s, bidxs, xtr, ytr: jax.lax.scan(
                    lambda c, b: step(c, b, xtr, ytr), (p, s), bidxs))
            else:  # XLA:CPU runs convolutions inside a scan several times slower
                one = for_run_time(lambda p, s, b, xtr, ytr: step((p, s), b, xtr, ytr))

                def chunk_fn(p, s, bidxs, xtr, ytr):
                    out = []
                    for b in bidxs:
                        (p, s), o = one(p, s, b, xtr, ytr)
                        out.append(o)
                    return (p, s), (jnp.stack([o[0] for o in out]), jnp.stack([o[1] for o in out]))
        for a in range(0, len(idx), per_eval):
            block = idx[a:a + per_eval]
            if chunk_fn is not None and len(block) == per_eval:
                (params, state), (l, n) = chunk_fn(params, state, jnp.asarray(block), self.x_train, self.y_train)
                if a == 0:
                    run.compile_seconds = time.perf_counter() - t0
                losses.append(np.asarray(l))
                norms.append(np.asarray(n))
            else:
                for b in block:
                    loss, g = fns["loss_grad"](params, self.x_train[b], self.y_train[b])
                    u, state = transform.update(g, state, params)
                    params = apply_updates(params, u)
                    losses.append(np.asarray([loss]))
                    norms.append(np.asarray([fns["gnorm"](g)]))
            ev = self.evaluate(params)
            run.eval_steps.append(a + len(block))
            run.test_accuracy.append(ev["accuracy"])
            run.test_loss.append(ev["loss"])
        run.losses = np.concatenate(losses).astype(np.float64)
        run.grad_norms = np.concatenate(norms).astype(np.float64)
        run.seconds = time.perf_counter() - t0
        run.params = params  # type: ignore[attr-defined]
        return run

    def gradient_trace(self, transform, steps: int, seed: int = 0, traceable: bool = True):
        """The first ``steps`` steps of training: (gradients, updates) per step as lists of float
        NumPy leaves, for feeding the same gradients to a reference optimizer."""
        import jax
        import jax.numpy as jnp

        from pytest_optim.conformance.runner import apply_updates

        idx = self.batch_indices(1, seed)[:steps]
        params = self.init(seed)
        state = transform.init(params)
        def body(carry, b, xtr, ytr):
            p, s = carry
            g = jax.grad(self.loss)(p, xtr[b], ytr[b])
            u, s = transform.update(g, s, p)
            return (apply_updates(p, u), s), (g, u)

        if traceable and self.scan:
            _, (gs, us) = jax.jit(lambda p, s, bs, xtr, ytr: jax.lax.scan(
                lambda c, b: body(c, b, xtr, ytr), (p, s), bs))(params, state, jnp.asarray(idx),
                                                                 self.x_train, self.y_train)
            g_leaves = [np.asarray(x) for x in jax.tree.leaves(gs)]
            u_leaves = [np.asarray(x) for x in jax.tree.leaves(us)]
            grads = [[x[t] for x in g_leaves] for t in range(steps)]
            updates = [[x[t] for x in u_leaves] for t in range(steps)]
        elif traceable:
            one = jax.jit(body)
            grads, updates = [], []
            for b in idx:
                (params, state), (g, u) = one((params, state), jnp.asarray(b), self.x_train, self.y_train)
                grads.append([np.asarray(x) for x in jax.tree.leaves(g)])
                updates.append([np.asarray(x) for x in jax.tree.leaves(u)])
        else:
            grad = self._jitted()["loss_grad"]
            grads, updates = [], []
            for b in idx:
                _, g = grad(params, self.x_train[b], self.y_train[b])
                u, state = transform.update(g, state, params)
                params = apply_updates(params, u)
                grads.append([np.asarray(x) for x in jax.tree.leaves(g)])
                updates.append([np.asarray(x) for x in jax.tree.leaves(u)])
        return params, grads, updates


# -- building the three workloads ----------------------------------------------------------------


def _take(n: int | None, *arrays):
    return arrays if n is None else tuple(a[:n] for a in arrays)


def mnist(arrays: Arrays, settings: Settings) -> Workload:
    import jax.numpy as jnp

    from pytest_optim.workloads import models

    xtr, ytr = _take(settings.n_train, arrays.x_train, arrays.y_train)
    xte, yte = _take(settings.n_test, arrays.x_test, arrays.y_test)
    divisor = settings.get("pixel_divisor", 255.0)
    prep = lambda x: jnp.asarray(x.reshape(x.shape[0], -1), jnp.float32) / divisor  # noqa: E731
    sizes = (784, *settings.get("hidden", (256,)), 10)
    normal_init = settings.get("normal_init")
    pixels = "raw 0-255 pixels" if divisor == 1.0 else f"pixels / {divisor:g}"
    return Workload(
        "mnist", "MNIST", settings, lambda key: models.mlp_init(key, sizes, normal_init), models.mlp_apply,
        prep(xtr), jnp.asarray(ytr, jnp.int32), prep(xte), jnp.asarray(yte, jnp.int32),
        notes=f"{len(xtr)} train / {len(xte)} test images, {pixels}",
    )


def cifar10(arrays: Arrays, settings: Settings) -> Workload:
    import jax.numpy as jnp

    from pytest_optim.workloads import models

    xtr, ytr = _take(settings.n_train, arrays.x_train, arrays.y_train)
    xte, yte = _take(settings.n_test, arrays.x_test, arrays.y_test)
    mean = xtr.reshape(-1, 3).mean(0) / 255.0
    std = xtr.reshape(-1, 3).std(0) / 255.0
    prep = lambda x: jnp.asarray(((x / 255.0) - mean) / std, jnp.float32)  # noqa: E731
    return Workload(
        "cifar10", "CIFAR-10", settings, models.cnn_init, models.cnn_apply,
        prep(xtr), jnp.asarray(ytr, jnp.int32), prep(xte), jnp.asarray(yte, jnp.int32),
        notes=f"{len(xtr)} train / {len(xte)} test images, per-channel standardised", scan=False,
    )


_TOKEN = re.compile(r"[a-z0-9']+")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.replace("<br />", " ").lower())


def build_vocab(texts, size: int) -> dict[str, int]:
    """The ``size - 2`` most frequent training tokens; id 0 = padding, 1 = out of vocabulary."""
    counts = Counter()
    for t in texts:
        counts.update(tokenize(t))
    return {w: i + 2 for i, (w, _) in enumerate(counts.most_common(size - 2))}


def encode(texts, vocab: dict[str, int], max_len: int) -> np.ndarray:
    out = np.zeros((len(texts), max_len), np.int32)
    for i, t in enumerate(texts):
        ids = [vocab.get(w, 1) for w in tokenize(t)[:max_len]]
        out[i, : len(ids)] = ids
    return out


def imdb(arrays: Arrays, settings: Settings) -> Workload:
    import jax.numpy as jnp

    from pytest_optim.workloads import models

    # the splits are sorted by label in some preparations: shuffle (fixed seed) before capping
    rng = np.random.default_rng(0)
    ptr, pte = rng.permutation(len(arrays.x_train)), rng.permutation(len(arrays.x_test))
    xtr, ytr = _take(settings.n_train, arrays.x_train[ptr], arrays.y_train[ptr])
    xte, yte = _take(settings.n_test, arrays.x_test[pte], arrays.y_test[pte])
    vocab_size, max_len, dim = settings.get("vocab"), settings.get("max_len"), settings.get("dim")
    vocab = build_vocab(xtr, vocab_size)
    return Workload(
        "imdb_reviews", "IMDB reviews", settings,
        lambda key: models.bag_init(key, vocab_size, dim), models.bag_apply,
        jnp.asarray(encode(xtr, vocab, max_len)), jnp.asarray(ytr, jnp.int32),
        jnp.asarray(encode(xte, vocab, max_len)), jnp.asarray(yte, jnp.int32),
        notes=f"{len(xtr)} train / {len(xte)} test reviews, vocabulary {vocab_size} from the training "
              f"reviews, first {max_len} tokens",
    )


BUILDERS = {"mnist": mnist, "cifar10": cifar10, "imdb_reviews": imdb}


def build(name: str, arrays: Arrays, mode: str = "ci") -> Workload:
    return BUILDERS[name](arrays, SETTINGS[(name, mode)])
