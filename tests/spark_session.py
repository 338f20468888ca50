"""THE local Spark session of the Spark tests (issue 19): one per test run, shared by
tests/test_spark.py and tests/test_spark_lists.py (local[2], UI off, 2 shuffle partitions), over
the demo store staged once as Parquet (`crmtool export --parquet`, phones shown so the lists
compare). Without pyspark or Java the modules are skipped, unless CI=true: then they must run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'crmtool[spark]')"
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        return "no Java (apt-get install openjdk-17-jre-headless)"
    return None


MISSING = spark_missing()


def skip_without_spark() -> None:
    """Skip the calling module without Spark, except under CI=true."""
    if MISSING and os.environ.get("CI") != "true":
        pytest.skip(MISSING, allow_module_level=True)


# The test run's session (docs/scale.md "The Spark tests"). The demo is small and the JVM
# starts cold: the rules' queries cost more to compile (expressions to Java code, Java to
# machine code) than to run. Expressions are interpreted (Spark tests that both ways give
# the same rows; the product keeps code generation), and the JVM keeps one compiler thread
# per tier and a single-threaded collector, so that it leaves the other test worker its core.
TEST_CONF = {
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.driver.extraJavaOptions": "-XX:CICompilerCount=2 -XX:+UseSerialGC",
}
# The modules that use the session: run on one pytest-xdist worker (conftest.py), one JVM.
SPARK_MODULES = ("tests/test_spark.py", "tests/test_spark_lists.py")


@dataclass
class SparkDemo:
    folder: Path
    db: Path  # the demo store for CLI runs (a copy: the fixture's own connection stays open)
    parquet: Path  # its canonical tables, `crmtool export --parquet`
    spark: Any  # the SparkSession


@pytest.fixture(scope="session")
def spark_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkDemo]:
    assert MISSING is None, MISSING  # CI=true: the Spark tests never skip
    from crmtool.config import load_config
    from crmtool.db import connect
    from crmtool.load.ingest import load
    from crmtool.output.export import export_parquet
    from crmtool.sample import bundled_sample_dir
    from crmtool.spark_engine import session

    folder = tmp_path_factory.mktemp("spark")
    sample = bundled_sample_dir()
    con = connect(folder / "demo.duckdb")
    try:
        load(con, [sample], load_config(sample / "crmtool.toml"))
        export_parquet(con, folder / "parquet", show_pii=True)
    finally:
        con.close()
    shutil.copyfile(folder / "demo.duckdb", folder / "cli.duckdb")
    spark = session("local[2]", conf=TEST_CONF)
    yield SparkDemo(folder, folder / "cli.duckdb", folder / "parquet", spark)
    spark.stop()
