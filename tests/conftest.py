"""Shared pytest options.

`--update-golden` rewrites the golden files under tests/golden/ from the
current renderers instead of comparing against them (review the diff!).
"""

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request) -> bool:
    return bool(request.config.getoption("--update-golden"))
