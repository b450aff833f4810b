"""Workload plumbing on tiny synthetic data (no TFDS): training, the gradient trace, the plots."""

import json

import numpy as np
import pytest

from pytest_optim.reporting import plots

from pytest_optim.workloads import training as workloads
from pytest_optim.workloads.data import Arrays


def _tiny_mnist():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 320)
    x = (rng.random((320, 28, 28, 1)) * 40).astype(np.uint8)
    x[np.arange(320), 2 * y, 2 * y, 0] = 255  # a learnable pixel per class
    arrays = Arrays("mnist", x[:256], y[:256], x[256:], y[256:])
    settings = workloads.Settings(None, None, 32, 2, "MLP 784-16-10", evals_per_epoch=2, extra=(("hidden", (16,)),))
    return workloads.mnist(arrays, settings)


def test_train_records_curves_and_learns():
    import optimizers

    wl = _tiny_mnist()
    run = wl.train(optimizers.adam(1e-2), learning_rate=1e-2, label="adam")
    assert run.finite and run.losses.shape == (16,) and run.grad_norms.shape == (16,)
    assert run.eval_steps == [4, 8, 12, 16] and len(run.test_accuracy) == 4
    assert run.losses[-4:].mean() < run.losses[:4].mean()


def test_gradient_trace_feeds_the_optax_reference_the_same_gradients():
    import jax
    import optax

    import optimizers
    from pytest_optim.conformance.runner import replay_scan

    wl = _tiny_mnist()
    _, grads, updates = wl.gradient_trace(optimizers.momentum(0.1, momentum=0.9), 5)
    treedef = jax.tree.structure(wl.init(0))
    expected, _ = replay_scan(optax.sgd(0.1, momentum=0.9), [jax.tree.unflatten(treedef, g) for g in grads], wl.init(0))
    for got, exp in zip(updates, expected):
        for a, b in zip(got, exp):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)


def test_imdb_vocabulary_and_encoding():
    vocab = workloads.build_vocab(["A good film.<br />Good!", "bad film"], 5)
    assert vocab["good"] == 2 and vocab["film"] == 3 and len(vocab) == 3
    ids = workloads.encode(["good unknown film"], vocab, 4)
    assert ids.tolist() == [[2, 1, 3, 0]]


def test_plots_overlay_optimizers_atomically(tmp_path):
    pytest.importorskip("matplotlib")
    for label, acc in (("adam", 0.9), ("pkg.mod:sgd", 0.8)):
        run = workloads.Run(label, "mnist", 0.1, np.linspace(2, 0.5, 20), np.linspace(1, 0.2, 20),
                            [10, 20], [acc - 0.1, acc], [0.9, 0.5])
        plots.write_curves(str(tmp_path), run)
    written = plots.make_plots(str(tmp_path))
    assert sorted(p.name for p in written) == ["mnist.json", "mnist.png"]
    assert (tmp_path / "mnist.png").read_bytes()[:4] == b"\x89PNG"
    assert [r["label"] for r in json.loads((tmp_path / "mnist.json").read_text())["runs"]] == ["adam", "pkg.mod:sgd"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_full_mnist_is_seed_001_setting():
    """--optim-full MNIST: raw pixels, N(0, 0.01^2) init, 784-512-512-10, loss = -mean(logp * onehot)."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 28, 28, 1)).astype(np.uint8)
    y = rng.integers(0, 10, 64)
    wl = workloads.mnist(Arrays("mnist", x, y, x[:8], y[:8]), workloads.SETTINGS[("mnist", "full")])
    assert float(wl.x_train.max()) == float(x.max())  # not divided by 255
    params = wl.init(0)
    assert [params[f"dense_{i}"]["w"].shape for i in range(3)] == [(784, 512), (512, 512), (512, 10)]
    w = np.asarray(params["dense_1"]["w"])
    # A sample std of N normal draws has standard error sigma/sqrt(2N): 1.4e-5 for the 262,144
    # weights, 3.1e-4 for the 512 biases, so the bounds are >= 10 standard errors, and far below
    # the He init's std (sqrt(2/512) = 0.0625) that they must tell apart.
    assert abs(w.std() - 0.01) < 0.001 and abs(float(np.asarray(params["dense_1"]["b"]).std()) - 0.01) < 0.003
    logp = jax.nn.log_softmax(wl.apply_fn(params, wl.x_train))
    tutorial_loss = -jnp.mean(logp * jax.nn.one_hot(wl.y_train, 10))
    # same float32 values, two summation orders over <= 640 terms: a few units of 2^-24 (6e-8)
    np.testing.assert_allclose(float(wl.loss(params, wl.x_train, wl.y_train)), float(tutorial_loss), rtol=1e-6)
