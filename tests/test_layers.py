"""Every module of crmtool has a place in the layer contract (pyproject.toml,
[tool.importlinter]): a module added at the package root or in output/ without one would
escape `lint-imports` silently. load/ and sample/ have contracts of their own; cli/ and
report/ are whole layers."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]["contracts"]


def _named() -> set[str]:
    layers = next(c for c in CONTRACTS if c["type"] == "layers")["layers"]
    return {m.strip() for layer in layers for m in layer.replace("|", ":").split(":")}


def test_every_module_is_in_a_layer() -> None:
    named = _named()
    package = ROOT / "crmtool"
    modules = {
        "crmtool." + ".".join(p.relative_to(package).with_suffix("").parts)
        for p in package.rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
    }
    own_contracts = ("crmtool.load.", "crmtool.sample.")
    homeless = sorted(
        m
        for m in modules
        if not m.startswith(own_contracts)
        and not any(m == n or m.startswith(n + ".") for n in named)
    )
    assert homeless == [], f"put these in a layer of pyproject.toml: {homeless}"
    assert "crmtool.cli" in named and "crmtool.facts" in named  # the scan reads the contract
