"""Shared fixtures of the tests (row builders: tests/builders.py)."""

from __future__ import annotations

import pytest

from crmtool import db


@pytest.fixture
def con():
    """An empty crmtool store in memory (modules with a prepared store define their own)."""
    c = db.connect(":memory:")
    yield c
    c.close()
