"""Small inline SVG charts for the HTML renderings: no script, no font, nothing fetched.

Hand-written rather than drawn with matplotlib: an HTML digest is written for every region
and period of a run (hundreds of them), and a matplotlib figure costs 30-300 ms where these
cost well under one. Every mark carries a ``<title>`` (the exact published figure, shown on
hover and read by screen readers) and ``data-*`` attributes the tests check. A suppressed
point is drawn as a hollow grey marker on the axis, with the word "suppressed" and no
number; its bar or line is simply absent.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "PALETTE",
    "Bar",
    "bar_list",
    "column_chart",
    "line_chart",
    "nice_ticks",
]

#: Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999933")
_INK = "#1f2933"
_GRID = "#d9dee3"
_MUTED = "#7b8794"
_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _f(x: float) -> str:
    """Coordinates with at most one decimal (small, deterministic text)."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def nice_ticks(top: float, count: int = 4) -> list[int]:
    """0 and round ticks (1, 2 or 5 times a power of ten apart), the last reaching *top*."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    last = math.ceil(top / step) * step
    return list(range(0, last + 1, step))


def _open(width: int, height: int, title: str, css_class: str) -> list[str]:
    return [
        (
            f'<svg class="chart {css_class}" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" style="{_FONT}">'
        ),
        f"<title>{_e(title)}</title>",
    ]


def _axis(  # noqa: PLR0913, PLR0917  the plot box's four edges, its ticks and unit
    left: float, right: float, top: float, bottom: float, ticks: Sequence[int], unit: str
) -> list[str]:
    span = ticks[-1] or 1
    out: list[str] = []
    for tick in ticks:
        y = bottom - (bottom - top) * tick / span
        out.extend(
            (
                (
                    f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(right)}" y2="{_f(y)}" '
                    f'stroke="{_GRID}" stroke-width="1"/>'
                ),
                (
                    f'<text x="{_f(left - 6)}" y="{_f(y + 4)}" font-size="11" fill="{_MUTED}" '
                    f'text-anchor="end">{tick}</text>'
                ),
            )
        )
    out.append(
        f'<text x="{_f(left - 6)}" y="{_f(top - 10)}" font-size="11" fill="{_MUTED}" '
        f'text-anchor="end">{_e(unit)}</text>'
    )
    return out


def _x_labels(labels: Sequence[str], xs: Sequence[float], y: float, room: float) -> list[str]:
    every = max(1, math.ceil(52 / room)) if room > 0 else 1
    out: list[str] = []
    last = len(labels) - 1
    for i, (label, x) in enumerate(zip(labels, xs, strict=True)):
        if (last - i) % every:  # keep the newest period labelled
            continue
        out.append(
            f'<text x="{_f(x)}" y="{_f(y)}" font-size="11" fill="{_MUTED}" '
            f'text-anchor="middle">{_e(label)}</text>'
        )
    return out


def _hollow(x: float, y: float, title: str, attrs: str = "") -> str:
    return (
        f'<g class="pt suppressed" data-suppressed="true"{attrs}><title>{_e(title)}</title>'
        f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4" fill="#fff" stroke="{_MUTED}" '
        f'stroke-width="1.5" stroke-dasharray="2 1.5"/></g>'
    )


def column_chart(  # noqa: PLR0913  a public keyword signature (the portal's dashboard, the renderers)
    labels: Sequence[str],
    values: Sequence[int | None],
    *,
    title: str,
    unit: str = "cases",
    width: int = 560,
    height: int = 220,
) -> str:
    """Vertical bars over periods; the last one (the digest's period) is emphasised."""
    left, right, top, bottom = 44.0, width - 24.0, 26.0, height - 28.0
    ticks = nice_ticks(max((v or 0 for v in values), default=0))
    span = ticks[-1] or 1
    slot = (right - left) / max(1, len(values))
    bar = min(42.0, slot * 0.7)
    out = _open(width, height, title, "columns")
    out += _axis(left, right, top, bottom, ticks, unit)
    xs: list[float] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + slot * (i + 0.5)
        xs.append(x)
        if value is None:
            # hidden, never drawn as zero: a dashed full-height column that says so
            out.append(
                f'<g class="pt suppressed" data-suppressed="true" data-label="{_e(label)}">'
                f"<title>{_e(label)}: suppressed (hidden, not zero)</title>"
                f'<rect x="{_f(x - bar / 2)}" y="{_f(top)}" width="{_f(bar)}" '
                f'height="{_f(bottom - top)}" fill="#f2f2f2" stroke="{_MUTED}" '
                f'stroke-width="1" stroke-dasharray="3 2" rx="2"/>'
                f'<text x="{_f(x)}" y="{_f((top + bottom) / 2)}" font-size="10" '
                f'fill="{_MUTED}" text-anchor="middle" font-style="italic" '
                f'transform="rotate(-90 {_f(x)} {_f((top + bottom) / 2)})">suppressed</text></g>'
            )
            continue
        h = (bottom - top) * value / span
        colour = PALETTE[0] if i == len(values) - 1 else "#8fb8d8"
        out.append(
            f'<g class="pt" data-label="{_e(label)}" data-value="{value}">'
            f"<title>{_e(label)}: {value} {_e(unit)}</title>"
            f'<rect x="{_f(x - bar / 2)}" y="{_f(bottom - h)}" width="{_f(bar)}" '
            f'height="{_f(max(h, 0.0))}" fill="{colour}" rx="2"/></g>'
        )
        if i == len(values) - 1:
            out.append(
                f'<text x="{_f(x)}" y="{_f(bottom - h - 5)}" font-size="12" font-weight="600" '
                f'fill="{_INK}" text-anchor="middle">{value}</text>'
            )
    out.append(
        f'<line x1="{_f(left)}" y1="{_f(bottom)}" x2="{_f(right)}" y2="{_f(bottom)}" '
        f'stroke="{_INK}" stroke-width="1"/>'
    )
    out += _x_labels(labels, xs, bottom + 17, slot)
    out.append("</svg>")
    return "".join(out)


def line_chart(  # noqa: PLR0913  a public keyword signature (the portal's dashboard, the renderers)
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int | None]]],
    *,
    title: str,
    unit: str = "cases",
    width: int = 520,
    height: int = 200,
    group: str = "",
) -> str:
    """One line per value over periods; a suppressed point breaks its line. *group* (the
    dimension) is written on every point as ``data-group``."""
    left, right, top, bottom = 40.0, width - 30.0, 24.0, height - 26.0
    ticks = nice_ticks(max((c or 0 for _, counts in series for c in counts), default=0))
    span = ticks[-1] or 1
    n = max(1, len(labels))
    step = (right - left) / max(1, n - 1) if n > 1 else 0.0
    xs = [left + step * i if n > 1 else (left + right) / 2 for i in range(n)]
    out = _open(width, height, title, "lines")
    out += _axis(left, right, top, bottom, ticks, unit)
    for index, (value, counts) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        runs: list[list[str]] = [[]]
        marks: list[str] = []
        for x, label, count in zip(xs, labels, counts, strict=True):
            attrs = f' data-group="{_e(group)}" data-series="{_e(value)}" data-label="{_e(label)}"'
            if count is None:
                runs.append([])
                marks.append(_hollow(x, bottom, f"{value}, {label}: suppressed", attrs))
                continue
            y = bottom - (bottom - top) * count / span
            runs[-1].append(f"{_f(x)},{_f(y)}")
            marks.append(
                f'<g class="pt"{attrs} '
                f'data-value="{count}"><title>{_e(value)}, {_e(label)}: {count} {_e(unit)}'
                f'</title><circle cx="{_f(x)}" cy="{_f(y)}" r="3" fill="{colour}"/></g>'
            )
        out.append(f'<g class="series" data-series="{_e(value)}">')
        out += [
            f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
            f'stroke-width="2" stroke-linejoin="round"/>'
            for run in runs
            if len(run) > 1
        ]
        out += marks
        out.append("</g>")
    out.append(
        f'<line x1="{_f(left)}" y1="{_f(bottom)}" x2="{_f(right)}" y2="{_f(bottom)}" '
        f'stroke="{_INK}" stroke-width="1"/>'
    )
    out += _x_labels(labels, xs, bottom + 17, step if n > 1 else right - left)
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of a :func:`bar_list`: *value* sets the length (``None``: suppressed),
    *text* is written after the bar."""

    label: str
    value: float | None
    text: str
    colour: str = PALETTE[0]
    note: str = ""


def bar_list(  # noqa: PLR0913  a public keyword signature (the renderers)
    rows: Sequence[Bar],
    *,
    title: str,
    maximum: float | None = None,
    width: int = 560,
    label_width: int = 150,
    row_height: int = 22,
) -> str:
    """Horizontal bars, one per row, largest scale = *maximum* (default: the largest value)."""
    top = 8.0
    height = int(top * 2 + row_height * max(1, len(rows)))
    left = float(label_width)
    text_room = 130.0
    right = width - text_room
    scale = maximum if maximum is not None else max((r.value or 0.0 for r in rows), default=0.0)
    scale = scale or 1.0
    out = _open(width, height, title, "bars")
    for i, row in enumerate(rows):
        y = top + row_height * i
        mid = y + row_height / 2
        out.append(
            f'<text x="{_f(left - 8)}" y="{_f(mid + 4)}" font-size="12" fill="{_INK}" '
            f'text-anchor="end">{_e(row.label)}</text>'
        )
        if row.value is None:
            out.append(_hollow(left + 4, mid, f"{row.label}: suppressed"))
            out.append(
                f'<text x="{_f(left + 14)}" y="{_f(mid + 4)}" font-size="11" '
                f'fill="{_MUTED}" font-style="italic">suppressed</text>'
            )
            continue
        length = (right - left) * max(row.value, 0.0) / scale
        out.append(
            f'<g class="pt" data-label="{_e(row.label)}" data-value="{_e(row.text)}">'
            f"<title>{_e(row.label)}: {_e(row.text)}{_e(row.note)}</title>"
            f'<rect x="{_f(left)}" y="{_f(y + 4)}" width="{_f(max(length, 1.0))}" '
            f'height="{_f(row_height - 8)}" fill="{row.colour}" rx="2"/></g>'
        )
        out.append(
            f'<text x="{_f(left + length + 6)}" y="{_f(mid + 4)}" font-size="12" '
            f'fill="{_INK}">{_e(row.text)}</text>'
        )
    out.append(
        f'<line x1="{_f(left)}" y1="{_f(top)}" x2="{_f(left)}" y2="{_f(height - top)}" '
        f'stroke="{_INK}" stroke-width="1"/>'
    )
    out.append("</svg>")
    return "".join(out)
