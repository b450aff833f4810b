"""Atomic file writes: a temporary file in the target's folder, then ``os.replace``.

A reader, or a run interrupted half-way, sees either the previous file or the new one whole,
never a truncated one; a failed write leaves no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def write(path: str | Path, fill: Callable[[BinaryIO], object]) -> Path:
    """Write ``path`` with ``fill(binary_file)``; missing folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    return write(path, lambda fh: fh.write(text.encode("utf-8")))

