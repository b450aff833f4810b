"""How a check or a run ends, other than passing: the exception types every subsystem shares."""

from __future__ import annotations


class UsageError(Exception):
    """A bad --optim value or an unloadable candidate: one line for a person."""


class CheckFailure(AssertionError):
    """A conformance check failed; the message is the whole story (shown without traceback)."""


class NotApplicable(Exception):
    """The check does not apply to this candidate (reported as skipped, with the reason)."""


class CandidateError(Exception):
    """The candidate misbehaved while being built (``stage="build"``) or called (raised inside checks)."""

    def __init__(self, message: str, stage: str = "run"):
        super().__init__(message)
        self.stage = stage
