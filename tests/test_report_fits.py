"""The report fits a 1280 px window (issue 15, item 6): headless Chromium lays out the demo's
report and a probe measures every table box against its section and the page against the
window. The probe is a copy of the page with a script (the real page allows none)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtool import db
from crmtool.cli import app
from crmtool.config import load_config
from crmtool.load.ingest import load
from crmtool.sample import bundled_sample_dir

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs /usr/bin/chromium (apt-get install -y chromium fonts-noto-cjk)",
)
SAMPLE = bundled_sample_dir()
AS_OF = json.loads((SAMPLE / "sample.json").read_text(encoding="utf-8"))["as_of"]

PROBE = """<script>
window.addEventListener('load', () => {
  const out = {viewport: document.documentElement.clientWidth,
               page: document.documentElement.scrollWidth, outside: []};
  document.querySelectorAll('section.sec').forEach(s => {
    const edge = s.getBoundingClientRect().right;
    if (edge > out.viewport + 0.5) out.outside.push(s.id);
    s.querySelectorAll('.tw').forEach(t => {
      if (t.getBoundingClientRect().right > edge + 0.5) out.outside.push(s.id + ' table');
    });
  });
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def measure(page: Path, width: int) -> dict:
    html = page.read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    probe = page.with_name("probe.html")
    probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    r = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={page.parent / 'profile'}",
            f"--window-size={width},2000",
            "--virtual-time-budget=3000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
    assert found, r.stderr[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"'))


def test_every_table_stays_inside_its_card_at_1280_px(tmp_path: Path) -> None:
    """Before: the 续保前移 (gift wording) and 流失客户招揽 tables ran ~270 px past the card."""
    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    load(con, [SAMPLE], load_config(SAMPLE / "crmtool.toml"))
    con.close()
    r = CliRunner().invoke(
        app,
        [
            "--db",
            str(path),
            "--config",
            str(SAMPLE / "crmtool.toml"),
            "--as-of",
            AS_OF,
            "report",
            "--period",
            "2021-12",
            "--out",
            str(tmp_path),
            "--show-pii",
        ],
    )
    assert r.exit_code == 0, r.output
    (page,) = tmp_path.glob("*.html")
    got = measure(page, 1280)
    assert got["outside"] == []
    assert got["page"] <= got["viewport"]  # no sideways scrolling of the page
