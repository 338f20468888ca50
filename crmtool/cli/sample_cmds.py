"""`crmtool sample`: write a synthetic dealership's exports (see crmtool.sample)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import app, state


@app.command("sample")
def sample_cmd(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Argument(help="Folder to write into.")] = Path("crmtool-sample"),
    size: Annotated[
        str,
        typer.Option(
            "--size",
            help="small (≈2,000 vehicles), medium (≈100,000 repair orders) or large "
            "(1,000,000 vehicles, ≈10,000,000 repair orders).",
        ),
    ] = "small",
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same bytes.")] = 7,
    encoding: Annotated[str, typer.Option("--encoding", help="gbk or utf-8.")] = "gbk",
) -> None:
    """Write a synthetic dealership (DMS / I-CROP style exports with planted defects).

    The files carry Chinese headers, GBK by default, and a manifest sample.json with the
    sample's fixed as_of (2021-12-31).

    Examples:

      crmtool sample demo/ && crmtool load demo/

      crmtool sample demo-utf8/ --encoding utf-8
    """
    from ..errors import UsageError
    from ..sample import SIZES, generate

    st = state(ctx)
    if size not in SIZES or size == "tiny":
        raise UsageError(f"--size must be small, medium or large, not {size!r}")
    step = {"last": -1}

    def progress(done: int, total: int) -> None:
        pct = done * 100 // total
        if total > 20_000 and pct // 10 != step["last"]:
            step["last"] = pct // 10
            st.say(f"sample: {done:,}/{total:,} vehicles")

    m = generate(out_dir, size=size, seed=seed, encoding=encoding, progress=progress)
    rows = ", ".join(f"{name} {n:,}" for name, n in m["files"].items())
    st.say(
        f"sample ({m['size']}, seed {m['seed']}, as_of {m['as_of']}) written to {out_dir}: {rows}"
    )
