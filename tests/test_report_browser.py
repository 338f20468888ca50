"""The report in a real browser: headless Chromium draws it (CJK fonts from fonts-noto-cjk) and
its net log proves the page asks the network for nothing. A page with external references is
run the same way to show the check would catch a leak."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from test_render import lists, previous, summary

from crmtool.render import write_report

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs /usr/bin/chromium (apt-get install -y chromium fonts-noto-cjk)",
)

LEAKY = """<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="https://fonts.example.com/a.css"></head>
<body><img src="http://img.example.com/x.png">leak</body></html>"""


def _shoot(page: Path, work: Path) -> tuple[Path, list[str]]:
    """Screenshot `page`; return the PNG and the URLs the page itself requested."""
    shot, netlog = work / "shot.png", work / "net.json"
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing can leave the machine anyway
        f"--user-data-dir={work / 'profile'}",
        f"--log-net-log={netlog}",
        f"--screenshot={shot}",
        "--window-size=1200,3000",
        page.as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=90, check=True)
    log = json.loads(netlog.read_text(encoding="utf-8"))
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in params:
            # Chromium's own background fetches (updates, clock) have no page as initiator.
            if params.get("initiator") != "not an origin":
                urls.append(params["url"])
    return shot, urls


def test_report_draws_and_requests_nothing(tmp_path: Path) -> None:
    html, _ = write_report(tmp_path, "2021-10", summary(), previous(), lists())
    work = tmp_path / "chromium"
    work.mkdir()
    shot, urls = _shoot(html, work)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 100_000  # a drawn page, not a blank one
    assert [u for u in urls if u != html.as_uri()] == []
    shutil.rmtree(work / "profile", ignore_errors=True)


def test_the_net_log_check_sees_a_leaky_page(tmp_path: Path) -> None:
    page = tmp_path / "leaky.html"
    page.write_text(LEAKY, encoding="utf-8")
    _, urls = _shoot(page, tmp_path)
    assert sorted(urls) == ["http://img.example.com/x.png", "https://fonts.example.com/a.css"]
