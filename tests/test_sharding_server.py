"""The sharding check's process: started once per run and kept; a crash or a print in a candidate
is that candidate's result alone, and the next candidate gets a working process."""

from __future__ import annotations

import textwrap

from pytest_optim.conformance import sharding

CANDIDATES = textwrap.dedent(
    """
    import os, optax

    def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
        return optax.adam(learning_rate, b1, b2, eps)

    def chatty(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
        print('{"passed": false, "message": "a line that looks like an answer"}')
        return optax.adam(learning_rate, b1, b2, eps)

    def crashes(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
        inner = optax.adam(learning_rate, b1, b2, eps)
        def update(g, s, p=None):
            os._exit(3)  # the process dies while the check runs
        return optax.GradientTransformation(inner.init, update)
    """
)


def test_one_process_serves_the_run_and_survives_its_candidates(tmp_path, monkeypatch):
    (tmp_path / "shard_candidates.py").write_text(CANDIDATES)
    monkeypatch.chdir(tmp_path)  # the candidate's module is importable from the working directory
    try:
        first = sharding.run_subprocess("shard_candidates:adam", "adam")
        pid = sharding._SERVER["current"].proc.pid
        chatty = sharding.run_subprocess("shard_candidates:chatty", "adam")
        assert first["passed"] is True and chatty["passed"] is True, (first, chatty)
        assert sharding._SERVER["current"].proc.pid == pid  # the same process answered both
        crashed = sharding.run_subprocess("shard_candidates:crashes", "adam")
        assert crashed["passed"] is False and "failed (exit 3)" in crashed["message"], crashed
        again = sharding.run_subprocess("shard_candidates:adam", "adam")
        assert again["passed"] is True and sharding._SERVER["current"].proc.pid != pid
    finally:
        sharding._close_server()
