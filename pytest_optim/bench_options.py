"""Command-line options of the bench suites (added to the one `optim` group)."""

import pytest


def add_options(group: pytest.OptionGroup) -> None:
    pass
