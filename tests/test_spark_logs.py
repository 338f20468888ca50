"""Spark's Java logs stay off crmtool's stderr (docs/rules.md §22 "Spark"): a session crmtool
starts logs errors only, one line each, unless the user named a log4j2 configuration. No
Spark needed: the configuration is an environment variable the started Java inherits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crmtool.spark_engine import LOG4J_ENV, quiet_java_logs


def test_a_started_java_gets_crmtools_quiet_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOG4J_ENV, raising=False)
    with quiet_java_logs():
        path = Path(os.environ[LOG4J_ENV])
        text = path.read_text(encoding="utf-8")
    assert LOG4J_ENV not in os.environ  # only while the session starts
    settings = dict(
        line.split(" = ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert settings["rootLogger.level"] == "error"
    assert settings["appender.stderr.target"] == "SYSTEM_ERR"
    assert settings["appender.stderr.layout.alwaysWriteExceptions"] == "false"
    # PySpark's gateway counts as a shell: its own level, so Spark does not announce one
    assert settings["logger.gateway.name"] == "org.apache.spark.api.python.PythonGatewayServer"
    assert settings["logger.gateway.level"] == "error"


def test_the_users_own_configuration_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOG4J_ENV, "/etc/spark/log4j2.properties")
    with quiet_java_logs():
        assert os.environ[LOG4J_ENV] == "/etc/spark/log4j2.properties"
    assert os.environ[LOG4J_ENV] == "/etc/spark/log4j2.properties"
