"""Command-line options of the workload suites (added to the one `optim` group)."""

import pytest


def add_options(group: pytest.OptionGroup) -> None:
    pass
