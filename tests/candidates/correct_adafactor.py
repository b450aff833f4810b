"""Correct candidates for the "adafactor" spec (Shazeer & Stern: factored second moment, update clipping,
relative step lr * max(1e-3, RMS(p)))."""

import jax
import jax.numpy as jnp
import optax

from tests.candidates._mixed_precision import float32_compute


def _wide(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _rms(x):
    return jnp.sqrt(jnp.mean(jnp.square(x)))


def _factored(shape, min_dim):
    """Axes (small, large) to factor over, or None: the two largest dims if the smaller is >= min_dim."""
    if len(shape) < 2:
        return None
    dims = sorted(range(len(shape)), key=lambda i: (shape[i], i))
    small, large = dims[-2], dims[-1]
    return (small, large) if shape[small] >= min_dim else None


def adafactor_dict(learning_rate, min_dim_size_to_factor=1.0, decay_rate=0.8, clipping_threshold=1.0, eps=1e-30,
                   momentum=0.0, weight_decay_rate=0.0, **kwargs):
    """From scratch: dict state, a constant float learning rate, paper sums (R C / sum(R)) instead of means."""
    lr = float(learning_rate)

    def init(params):
        def leaf(p):
            dims = _factored(p.shape, min_dim_size_to_factor)
            dt = _wide(p)
            if dims is None:
                return {"v": jnp.zeros(p.shape, dt)}
            small, large = dims
            return {"row": jnp.zeros(tuple(s for i, s in enumerate(p.shape) if i != large), dt),
                    "col": jnp.zeros(tuple(s for i, s in enumerate(p.shape) if i != small), dt)}

        stats = jax.tree.map(leaf, params)
        mom = jax.tree.map(lambda p: jnp.zeros(p.shape, _wide(p)), params)
        return {"step": jnp.zeros([], jnp.int32), "stats": stats, "mom": mom}

    def update(grads, state, params):
        step = state["step"] + 1
        g_leaves, tree = jax.tree.flatten(grads)
        s_leaves = tree.flatten_up_to(state["stats"])
        m_leaves = tree.flatten_up_to(state["mom"])
        p_leaves = tree.flatten_up_to(params)
        outs, new_s, new_m = [], [], []
        for g0, s, m, p in zip(g_leaves, s_leaves, m_leaves, p_leaves):
            dt = _wide(g0)
            g = g0.astype(dt)
            rho = 1.0 - step.astype(dt) ** (-decay_rate)  # beta2_t
            sq = g * g + eps
            dims = _factored(g.shape, min_dim_size_to_factor)
            if dims is None:
                v = rho * s["v"] + (1 - rho) * sq
                s = {"v": v}
                u = g / jnp.sqrt(v)
            else:
                small, large = dims
                row = rho * s["row"] + (1 - rho) * jnp.sum(sq, axis=large)
                col = rho * s["col"] + (1 - rho) * jnp.sum(sq, axis=small)
                s = {"row": row, "col": col}
                ax = small if small < large else small - 1
                r = row / jnp.sum(row, axis=ax, keepdims=True)
                u = g / jnp.sqrt(jnp.expand_dims(r, large)) / jnp.sqrt(jnp.expand_dims(col, small))
            u = u / jnp.maximum(1.0, _rms(u) / clipping_threshold)
            pw = p.astype(dt)
            delta = lr * jnp.maximum(1e-3, _rms(pw)) * u
            m = momentum * m + (1 - momentum) * delta
            delta = m + weight_decay_rate * pw
            outs.append((-delta).astype(g0.dtype))
            new_s.append(s)
            new_m.append(m)
        return tree.unflatten(outs), {"step": step, "stats": tree.unflatten(new_s), "mom": tree.unflatten(new_m)}

    return optax.GradientTransformation(init, update)


class Adafactor:
    """A class with methods, tuple state; schedules accepted; R and C kept as means (optax's layout)."""

    def __init__(self, learning_rate, min_dim_size_to_factor=1.0, decay_rate=0.8, clipping_threshold=1.0,
                 eps=1e-30, momentum=0.0, weight_decay_rate=0.0, **unused):
        self.lr = learning_rate
        self.min_dim, self.c, self.d, self.eps = min_dim_size_to_factor, decay_rate, clipping_threshold, eps
        self.beta1, self.wd = momentum, weight_decay_rate

    def _lr(self, count):
        return self.lr(count) if callable(self.lr) else self.lr

    def init(self, params):
        def stats(p):
            dt = _wide(p)
            dims = _factored(p.shape, self.min_dim)
            if dims is None:
                return (jnp.zeros(p.shape, dt),)
            small, large = dims
            return (jnp.mean(jnp.zeros(p.shape, dt), axis=large), jnp.mean(jnp.zeros(p.shape, dt), axis=small))

        return (jnp.zeros([], jnp.int32), jax.tree.map(stats, params),
                jax.tree.map(lambda p: jnp.zeros(p.shape, _wide(p)), params))

    def _leaf(self, g0, stats, m, p, t, lr):
        dt = _wide(g0)
        g = g0.astype(dt)
        beta2 = 1 - t.astype(dt) ** (-jnp.asarray(self.c, dt))
        sq = jnp.square(g) + self.eps
        if len(stats) == 1:
            v = beta2 * stats[0] + (1 - beta2) * sq
            stats, precond = (v,), jax.lax.rsqrt(v)
        else:
            small, large = _factored(g.shape, self.min_dim)
            r = beta2 * stats[0] + (1 - beta2) * sq.mean(axis=large)
            c = beta2 * stats[1] + (1 - beta2) * sq.mean(axis=small)
            ax = small if small < large else small - 1
            stats = (r, c)
            precond = jnp.expand_dims(jax.lax.rsqrt(r / r.mean(axis=ax, keepdims=True)), large) * jnp.expand_dims(
                jax.lax.rsqrt(c), small)
        u = g * precond
        u = u / jnp.maximum(1.0, _rms(u) / self.d)
        pw = p.astype(dt)
        step = jnp.asarray(lr, dt) * jnp.maximum(1e-3, _rms(pw)) * u
        m = self.beta1 * m + (1 - self.beta1) * step
        return (-(m + self.wd * pw)).astype(g0.dtype), stats, m

    def update(self, grads, state, params=None):
        count, stats, mom = state
        t = count + 1
        lr = self._lr(count)
        out = jax.tree.map(lambda g, s, m, p: self._leaf(g, s, m, p, t, lr), grads, stats, mom, params,
                           is_leaf=lambda x: x is None)
        # out has a 3-tuple in place of every gradient leaf
        tree = jax.tree.structure(grads)
        triples = tree.flatten_up_to(out)
        return (tree.unflatten([a for a, _, _ in triples]),
                (t, tree.unflatten([s for _, s, _ in triples]), tree.unflatten([m for _, _, m in triples])))


def adafactor_optax_chain(learning_rate, min_dim_size_to_factor=1.0, decay_rate=0.8, clipping_threshold=1.0,
                          eps=1e-30, momentum=0.0, weight_decay_rate=0.0):
    """optax's building blocks, in float32 for narrow leaves, with beta2_t computed in the count's float type
    (optax's own schedule rounds t^-0.8 in float32 even under x64)."""

    def decay(count, c):
        t = jnp.asarray(count + 1, jnp.result_type(float))
        return 1.0 - t ** (-c)

    parts = [optax.scale_by_factored_rms(True, decay_rate, 0, min_dim_size_to_factor, eps, decay_rate_fn=decay),
             optax.clip_by_block_rms(clipping_threshold), optax.scale_by_learning_rate(learning_rate, flip_sign=False),
             optax.scale_by_param_block_rms(1e-3)]
    if momentum:
        parts.append(optax.ema(momentum, debias=False))
    if weight_decay_rate:
        parts.append(optax.add_decayed_weights(weight_decay_rate))
    parts.append(optax.scale(-1.0))
    return float32_compute(optax.chain(*parts))


def relative_step(count):
    """The paper's rho_t = min(1e-2, 1/sqrt(t)) as a schedule (count is 0-based)."""
    return jnp.minimum(1e-2, 1.0 / jnp.sqrt(jnp.asarray(count, jnp.result_type(float)) + 1.0))

