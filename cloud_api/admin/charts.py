"""Charts as inline SVG built on the server: no JavaScript, no CDN, nothing to load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

WIDTH, HEIGHT, PAD = 560, 180, 28


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


def day_series(counts: dict[str, int], days: int, today: date) -> list[Bar]:
    """One bar per day, oldest first, zero for days with nothing."""
    first = today - timedelta(days=days - 1)
    return [
        Bar((first + timedelta(d)).strftime("%m-%d"), counts.get(str(first + timedelta(d)), 0))
        for d in range(days)
    ]


def column_chart(bars: list[Bar], title: str) -> str:
    if not bars:
        return _empty(title)
    top = max(1, *(bar.value for bar in bars))
    slot = (WIDTH - 2 * PAD) / len(bars)
    parts = [_open(title)]
    for i, bar in enumerate(bars):
        height = (HEIGHT - 2 * PAD) * bar.value / top
        x = PAD + i * slot + slot * 0.15
        y = HEIGHT - PAD - height
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{height:.1f}"><title>{escape(bar.label)}: {bar.value}</title></rect>'
        )
        if len(bars) <= 16 or i % max(1, len(bars) // 8) == 0:
            parts.append(
                f'<text class="axis" x="{x + slot * 0.35:.1f}" y="{HEIGHT - PAD + 14}" '
                f'text-anchor="middle">{escape(bar.label)}</text>'
            )
    parts.append(
        f'<text class="axis" x="{PAD - 4}" y="{PAD + 4}" text-anchor="end">{top}</text>'
        f'<line class="base" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" '
        f'y2="{HEIGHT - PAD}"/></svg>'
    )
    return "".join(parts)


def bar_list(bars: list[Bar], title: str) -> str:
    """Horizontal bars with labels: categories (styles) and funnel steps."""
    if not bars or all(bar.value == 0 for bar in bars):
        return _empty(title)
    top = max(bar.value for bar in bars)
    row = min(28, (HEIGHT - 8) // len(bars))
    label_w = 150
    parts = [_open(title, height=row * len(bars) + 8)]
    for i, bar in enumerate(bars):
        y = 4 + i * row
        length = (WIDTH - label_w - 60) * bar.value / top
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{y + row * 0.65:.1f}" text-anchor="end">'
            f"{escape(bar.label)}</text>"
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{length:.1f}" '
            f'height="{row - 6}"><title>{escape(bar.label)}: {bar.value}</title></rect>'
            f'<text class="value" x="{label_w + length + 6:.1f}" y="{y + row * 0.65:.1f}">'
            f"{bar.value}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _open(title: str, height: int = HEIGHT) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def _empty(title: str) -> str:
    return (
        f'<svg class="chart empty" viewBox="0 0 {WIDTH} 60" role="img" '
        f'aria-label="{escape(title)}"><text class="label" x="{WIDTH / 2}" y="34" '
        f'text-anchor="middle">No data yet</text></svg>'
    )
