"""Small models in plain JAX: pure functions over plain pytrees (dicts of arrays), in the style
of JAX's ``examples/mnist_classifier_fromscratch.py``. No Flax/Haiku: a candidate optimizer sees
exactly these leaves, with readable paths such as ``['dense_0']['w']``.

Every model is a pair ``init(key) -> params`` / ``apply(params, x) -> logits``; all parameters are
float32 (the plugin turns on x64, so dtypes are spelled out everywhere).
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp

F32 = jnp.float32


def _dense(key, n_in: int, n_out: int, gain: float = 2.0) -> dict:
    w = jax.random.normal(key, (n_in, n_out), F32) * jnp.sqrt(gain / n_in).astype(F32)
    return {"w": w, "b": jnp.zeros((n_out,), F32)}


# -- MLP (MNIST) ----------------------------------------------------------------------------------


def mlp_init(key, sizes: Sequence[int], normal_scale: float | None = None) -> dict:
    """Dense layers ``sizes[0] -> ... -> sizes[-1]``: He-initialised, or with weights and biases
    drawn from N(0, normal_scale^2) (the init of JAX's "Training a simple neural network" tutorial)."""
    keys = jax.random.split(key, len(sizes) - 1)
    if normal_scale is None:
        return {f"dense_{i}": _dense(k, a, b, 2.0 if i < len(sizes) - 2 else 1.0)
                for i, (k, a, b) in enumerate(zip(keys, sizes[:-1], sizes[1:]))}
    params = {}
    for i, (k, a, b) in enumerate(zip(keys, sizes[:-1], sizes[1:])):
        kw, kb = jax.random.split(k)
        params[f"dense_{i}"] = {"w": jax.random.normal(kw, (a, b), F32) * F32(normal_scale),
                                "b": jax.random.normal(kb, (b,), F32) * F32(normal_scale)}
    return params


def mlp_apply(params: dict, x) -> jnp.ndarray:
    """ReLU MLP on flattened inputs; returns logits."""
    h = x.reshape(x.shape[0], -1)
    n = len(params)
    for i in range(n):
        layer = params[f"dense_{i}"]
        h = h @ layer["w"] + layer["b"]
        if i < n - 1:
            h = jax.nn.relu(h)
    return h


# -- small CNN (CIFAR-10) ----------------------------------------------------------------------------


def cnn_init(key, channels: Sequence[int] = (16, 32, 32), in_channels: int = 3, classes: int = 10) -> dict:
    """3x3 convolutions with stride 2 (HWIO kernels), then global average pooling and a dense layer."""
    keys = jax.random.split(key, len(channels) + 1)
    params, c_in = {}, in_channels
    for i, (k, c) in enumerate(zip(keys, channels)):
        fan_in = 9 * c_in
        params[f"conv_{i}"] = {
            "w": jax.random.normal(k, (3, 3, c_in, c), F32) * jnp.sqrt(2.0 / fan_in).astype(F32),
            "b": jnp.zeros((c,), F32),
        }
        c_in = c
    params["dense"] = _dense(keys[-1], c_in, classes, 1.0)
    return params


def cnn_apply(params: dict, x) -> jnp.ndarray:
    """x: (N, H, W, C) float32. conv(3x3, stride 2) + ReLU per block, mean pool, dense."""
    h = x
    i = 0
    while f"conv_{i}" in params:
        layer = params[f"conv_{i}"]
        h = jax.lax.conv_general_dilated(h, layer["w"], window_strides=(2, 2), padding="SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        h = jax.nn.relu(h + layer["b"])
        i += 1
    h = h.mean(axis=(1, 2))
    return h @ params["dense"]["w"] + params["dense"]["b"]


# -- mean-pooled embeddings (IMDB) -------------------------------------------------------------------


def bag_init(key, vocab_size: int, dim: int = 32, classes: int = 2) -> dict:
    """Embedding table (row 0 is padding) and a linear classifier over the mean embedding."""
    k1, k2 = jax.random.split(key)
    return {
        "embedding": jax.random.normal(k1, (vocab_size, dim), F32) * F32(0.1),
        "dense": _dense(k2, dim, classes, 1.0),
    }


def bag_apply(params: dict, tokens) -> jnp.ndarray:
    """tokens: (N, L) int32 ids, 0 = padding. Sum of the non-padding embeddings / sqrt(count), then linear."""
    emb = params["embedding"][tokens]
    mask = (tokens > 0).astype(F32)[..., None]
    # "sqrtn" combiner (as in tf.nn.embedding_lookup_sparse): sum / sqrt(length). Plain SGD then
    # moves the embeddings sqrt(length) times faster than with a mean.
    pooled = (emb * mask).sum(axis=1) / jnp.sqrt(jnp.maximum(mask.sum(axis=1), 1.0))
    return pooled @ params["dense"]["w"] + params["dense"]["b"]


# -- loss and metrics ---------------------------------------------------------------------------------


def cross_entropy(logits, labels) -> jnp.ndarray:
    """Mean softmax cross-entropy with integer labels."""
    logp = jax.nn.log_softmax(logits.astype(F32))
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None].astype(jnp.int32), axis=1))


def accuracy(logits, labels) -> jnp.ndarray:
    return jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(F32))
