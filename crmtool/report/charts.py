"""Inline SVG charts for the HTML report: horizontal bars, one 100 % stacked bar, stacked rows
and a funnel. Every label goes through markupsafe, so data can never inject markup."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

WIDTH = 600
FONT = 13
INK = "#1f2937"
MUTED = "#6b7280"
TRACK = "#eef1f5"


def _n(x: float) -> str:
    """A coordinate with at most one decimal, so output is stable and short."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _units(ch: str) -> int:
    """Width of a character in half-em units: CJK and full-width forms take two."""
    return 2 if ord(ch) > 0x2E7F else 1


def _clip(text: str, chars: int) -> str:
    """At most `chars` Latin characters' width (a CJK character counts two), '…' when cut."""
    if sum(map(_units, text)) <= chars:
        return text
    out, used = "", 1
    for ch in text:
        if used + _units(ch) > chars:
            break
        out, used = out + ch, used + _units(ch)
    return out + "…"


def _svg(height: float, body: list[Markup], title: str) -> Markup:
    return Markup(
        '<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="100%" '
        'preserveAspectRatio="xMinYMin meet">'
        "<title>{t}</title>{b}</svg>"
    ).format(w=WIDTH, h=_n(height), t=title, b=Markup("").join(body))


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    fill: str = INK,
    size: int = FONT,
    weight: str = "normal",
) -> Markup:
    return Markup(
        '<text x="{}" y="{}" text-anchor="{}" fill="{}" font-size="{}" font-weight="{}">{}</text>'
    ).format(_n(x), _n(y), anchor, fill, size, weight, text)


def _rect(x: float, y: float, w: float, h: float, fill: str, rx: float = 3) -> Markup:
    return Markup('<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="{}"/>').format(
        _n(x), _n(y), _n(max(w, 0)), _n(h), _n(rx), fill
    )


def hbar(
    items: Sequence[tuple[str, float, str]],
    *,
    color: str | Sequence[str] = "#2e75b6",
    inner: Sequence[float] | None = None,
    inner_color: str = "#1f4e79",
    title: str = "",
    label_width: int = 170,
) -> Markup:
    """Horizontal bars: (label, value, value text) each; `inner` draws a darker part of each bar
    (e.g. returned of sold). The value text stands beside each bar."""
    if not items:
        return Markup("")
    bar_h, gap, top = 22, 10, 4
    value_w = 120
    span = WIDTH - label_width - value_w
    peak = max((v for _, v, _ in items), default=0) or 1
    colors = [color] * len(items) if isinstance(color, str) else list(color)
    body: list[Markup] = []
    for i, (label, value, shown) in enumerate(items):
        y = top + i * (bar_h + gap)
        mid = y + bar_h / 2 + FONT * 0.35
        body.append(
            _text(label_width - 10, mid, _clip(str(label), (label_width - 14) // 7), anchor="end")
        )
        body.append(_rect(label_width, y, span, bar_h, TRACK))
        w = span * max(value, 0) / peak
        body.append(_rect(label_width, y, w, bar_h, colors[i % len(colors)]))
        if inner is not None:
            body.append(_rect(label_width, y, span * max(inner[i], 0) / peak, bar_h, inner_color))
        body.append(_text(label_width + w + 8, mid, shown, weight="600"))
    return _svg(top + len(items) * (bar_h + gap), body, title)


def stacked(parts: Sequence[tuple[str, float, str, str]], *, title: str = "") -> Markup:
    """One 100 % bar split into (label, value, value text, colour) parts, with a legend."""
    total = sum(max(v, 0) for _, v, _, _ in parts)
    if not parts or total <= 0:
        return Markup("")
    body: list[Markup] = []
    x, bar_h = 0.0, 34
    for _label, value, shown, fill in parts:
        w = WIDTH * max(value, 0) / total
        body.append(_rect(x, 0, w, bar_h, fill, rx=0))
        if w >= 56:
            body.append(
                _text(
                    x + w / 2,
                    bar_h / 2 + FONT * 0.35,
                    shown,
                    anchor="middle",
                    fill="#ffffff",
                    weight="600",
                )
            )
        x += w
    cols, row_h = 2, 24
    for i, (label, _value, shown, fill) in enumerate(parts):
        lx = (i % cols) * (WIDTH / cols)
        ly = bar_h + 16 + (i // cols) * row_h
        body.append(_rect(lx, ly, 12, 12, fill, rx=2))
        body.append(_text(lx + 18, ly + 11, f"{_clip(str(label), 18)}  {shown}"))
    rows = (len(parts) + cols - 1) // cols
    return _svg(bar_h + 16 + rows * row_h, body, title)


def stacked_rows(
    rows: Sequence[tuple[str, Sequence[float]]],
    keys: Sequence[str],
    colors: Sequence[str],
    *,
    title: str = "",
    label_width: int = 130,
) -> Markup:
    """One 100 % bar per row (e.g. tier mix per series), with a legend of `keys` on top."""
    if not rows:
        return Markup("")
    bar_h, gap, top = 20, 8, 28
    span = WIDTH - label_width - 10
    body: list[Markup] = []
    for i, key in enumerate(keys):
        body.append(_rect(label_width + i * 70, 4, 12, 12, colors[i], rx=2))
        body.append(_text(label_width + i * 70 + 18, 15, key))
    for r, (label, values) in enumerate(rows):
        y = top + r * (bar_h + gap)
        body.append(
            _text(
                label_width - 10, y + bar_h / 2 + FONT * 0.35, _clip(str(label), 10), anchor="end"
            )
        )
        total = sum(max(v, 0) for v in values)
        body.append(_rect(label_width, y, span, bar_h, TRACK, rx=0))
        x = float(label_width)
        for i, v in enumerate(values):
            if total <= 0:
                break
            w = span * max(v, 0) / total
            body.append(_rect(x, y, w, bar_h, colors[i], rx=0))
            if w >= 34:
                body.append(
                    _text(
                        x + w / 2,
                        y + bar_h / 2 + 4,
                        f"{v / total:.0%}",
                        anchor="middle",
                        fill="#ffffff",
                        size=11,
                    )
                )
            x += w
    return _svg(top + len(rows) * (bar_h + gap), body, title)


def funnel(steps: Sequence[tuple[str, float, str, str]], *, title: str = "") -> Markup:
    """Centred bars narrowing with the count, joined by light trapezoids:
    (label, value, value text, colour) per step; labels left, values right."""
    if not steps:
        return Markup("")
    label_w, value_w, bar_h, gap = 120, 130, 30, 12
    span = WIDTH - label_w - value_w
    centre = label_w + span / 2
    peak = max((v for _, v, _, _ in steps), default=0) or 1
    widths = [max(span * max(v, 0) / peak, 4) for _, v, _, _ in steps]
    body: list[Markup] = []
    for i, (label, _value, shown, fill) in enumerate(steps):
        y = i * (bar_h + gap)
        w = widths[i]
        if i + 1 < len(steps):
            w2 = widths[i + 1]
            pts = (
                f"{_n(centre - w / 2)},{_n(y + bar_h)} {_n(centre + w / 2)},{_n(y + bar_h)} "
                f"{_n(centre + w2 / 2)},{_n(y + bar_h + gap)} "
                f"{_n(centre - w2 / 2)},{_n(y + bar_h + gap)}"
            )
            body.append(Markup('<polygon points="{}" fill="{}"/>').format(pts, TRACK))
        body.append(_rect(centre - w / 2, y, w, bar_h, fill, rx=2))
        mid = y + bar_h / 2 + FONT * 0.35
        body.append(_text(label_w - 10, mid, _clip(str(label), 9), anchor="end"))
        body.append(_text(WIDTH - value_w + 10, mid, shown, weight="600"))
    return _svg(len(steps) * (bar_h + gap) - gap, body, title)


def lines(
    series: Sequence[tuple[str, Sequence[float | None], str]],
    xlabels: Sequence[str],
    *,
    title: str = "",
    percent: bool = True,
    step: bool = False,
    ymax: float | None = None,
    height: float = 240,
) -> Markup:
    """Lines over shared x positions: (name, values, colour) per series, gaps for None; a
    legend above, y from 0 to `ymax` (default the largest value); `step` draws a step curve
    (a survival curve)."""
    if not xlabels:
        return Markup("")
    left, right, top, bottom = 48, 12, 28, 28
    w, h = WIDTH - left - right, height - top - bottom
    vals = [v for _, vs, _ in series for v in vs if v is not None]
    hi = ymax if ymax is not None else (max(vals, default=1.0) or 1.0)
    n = len(xlabels)

    def x(i: int) -> float:
        return left + (w * i / (n - 1) if n > 1 else w / 2)

    def y(v: float) -> float:
        return top + h - h * min(max(v, 0.0), hi) / hi

    body: list[Markup] = []
    for k in range(5):  # grid and y labels
        v = hi * k / 4
        body.append(
            Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>').format(
                left, _n(y(v)), _n(left + w), _n(y(v)), TRACK
            )
        )
        body.append(
            _text(
                left - 6,
                y(v) + 4,
                f"{v:.0%}" if percent else f"{v:,.0f}",
                anchor="end",
                fill=MUTED,
                size=11,
            )
        )
    every = max(1, n // 8)
    for i, lab in enumerate(xlabels):
        if i % every == 0 or i == n - 1:
            body.append(
                _text(x(i), top + h + 18, _clip(str(lab), 8), anchor="middle", fill=MUTED, size=11)
            )
    lx = left
    for name, values, colour in series:
        body.append(_rect(lx, 8, 10, 10, colour, rx=2))
        body.append(_text(lx + 14, 17, _clip(str(name), 14), size=11))
        lx += 24 + 7 * min(len(str(name)), 14) * (2 if any(ord(c) > 0x2E80 for c in name) else 1)
        pts: list[str] = []
        runs: list[list[str]] = []
        for i, val in enumerate(values):
            if val is None:
                if pts:
                    runs.append(pts)
                pts = []
                continue
            if step and pts:
                pts.append(f"{_n(x(i))},{pts[-1].split(',')[1]}")
            pts.append(f"{_n(x(i))},{_n(y(val))}")
        if pts:
            runs.append(pts)
        for run in runs:
            body.append(
                Markup('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>').format(
                    " ".join(run), colour
                )
            )
    return _svg(height, body, title)


def heatmap(
    rows: Sequence[tuple[str, Sequence[float | None]]], columns: Sequence[str], *, title: str = ""
) -> Markup:
    """A grid of shares 0–1, darker for higher; an empty cell for None."""
    if not rows:
        return Markup("")
    label_w, cell_h, gap = 70, 28, 2
    cell_w = (WIDTH - label_w) / max(len(columns), 1)
    body: list[Markup] = []
    for j, col in enumerate(columns):
        body.append(
            _text(
                label_w + cell_w * (j + 0.5),
                16,
                _clip(str(col), 8),
                anchor="middle",
                fill=MUTED,
                size=11,
            )
        )
    for i, (label, values) in enumerate(rows):
        y = 24 + i * (cell_h + gap)
        body.append(_text(label_w - 8, y + cell_h / 2 + 4, _clip(str(label), 8), anchor="end"))
        for j, v in enumerate(values):
            x = label_w + j * cell_w
            if v is None:
                body.append(_rect(x + 1, y, cell_w - 2, cell_h, TRACK, rx=2))
                continue
            shade = int(235 - 190 * max(0.0, min(1.0, v)))
            fill = f"#{shade // 3:02x}{shade // 2 + 30:02x}{min(255, shade + 20):02x}"
            body.append(_rect(x + 1, y, cell_w - 2, cell_h, fill, rx=2))
            body.append(
                _text(
                    x + cell_w / 2,
                    y + cell_h / 2 + 4,
                    f"{v:.0%}",
                    anchor="middle",
                    fill="#ffffff" if v > 0.45 else INK,
                    size=11,
                )
            )
    return _svg(24 + len(rows) * (cell_h + gap), body, title)


__all__ = ["hbar", "stacked", "stacked_rows", "funnel", "lines", "heatmap"]
