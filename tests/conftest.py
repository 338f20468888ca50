"""Shared fixtures of the tests (row builders: tests/builders.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from crmtool import db
from crmtool.config import load_config
from crmtool.load.ingest import load
from crmtool.sample import bundled_sample_dir

pytest_plugins = ["spark_session"]  # the Spark tests' one session (tests/spark_session.py)

# Property tests draw the same examples every run (CI is deterministic); a search for new
# failing inputs: HYPOTHESIS_PROFILE=explore pytest tests/test_where.py (a failure found
# there becomes an @example of its test).
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`, with the modules of the Spark session as one group: one worker
    starts Java and warms it once (tests/spark_session.py SPARK_MODULES)."""
    if config.getoption("dist") != "loadfile":
        return None
    from spark_session import SPARK_MODULES
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return SPARK_MODULES[0] if scope in SPARK_MODULES else scope

    return Scheduling(config, log)


@pytest.fixture
def con():
    """An empty crmtool store in memory (modules with a prepared store define their own)."""
    c = db.connect(":memory:")
    yield c
    c.close()


@pytest.fixture(autouse=True)
def private_tmpdir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test runs with $TMPDIR (and Python's tempfile) in a folder of its own, also for
    the crmtool processes it starts, and fails when a `crmtool-*` file, or a `crmtool-*`
    folder with something in it, is left there: copies of exports hold people's data and
    never belong in the shared temp folder (an older reader left /tmp/crmtool-XXXX.csv
    behind each killed load). An empty folder a live session still uses (the Spark
    warehouse, removed at exit) is not a leak."""
    folder = tmp_path_factory.mktemp("tmpdir")
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(name, str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    left = sorted(p.name for p in folder.glob("crmtool-*") if not p.is_dir() or any(p.iterdir()))
    assert not left, f"left in $TMPDIR: {left}"


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample loaded with its own config, as `crmtool demo --keep` leaves it:
    crmtool-demo.duckdb and crmtool-demo.toml in a folder (copy the database before a command
    that may write to it)."""
    folder = tmp_path_factory.mktemp("demo")
    sample = bundled_sample_dir()
    shutil.copyfile(sample / "crmtool.toml", folder / "crmtool-demo.toml")
    c = db.connect(folder / "crmtool-demo.duckdb")
    try:
        load(c, [sample], load_config(sample / "crmtool.toml"))
    finally:
        c.close()
    return folder
