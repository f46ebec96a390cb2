"""Small hand-made SVG charts for the weekly report's HTML: inline, no script, no fonts or
images from anywhere, so the file opens offline. (matplotlib is not a dependency; three chart
kinds do not need it.)"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

COLOURS = ("#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#4b5563")
FONT = 'font-family="sans-serif" font-size="11"'


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>'
            f'<text x="4" y="14" {FONT} font-weight="bold">{escape(title)}</text>'
            + "".join(body) + "</svg>")


def bars(items: Sequence[tuple[str, float]], title: str, unit: str = "") -> str:
    """Horizontal bars, one per (label, value), scaled to the largest."""
    row, left, width = 18, 150, 560
    top = max((v for _, v in items), default=0.0) or 1.0
    body = []
    for i, (label, value) in enumerate(items):
        y = 24 + i * row
        w = max(0.0, value) / top * (width - left - 70)
        body.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end" {FONT}>'
                    f'{escape(label[:24])}</text>'
                    f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 5}" '
                    f'fill="{COLOURS[0]}"/>'
                    f'<text x="{left + w + 4:.1f}" y="{y + 12}" {FONT}>'
                    f'{_num(value)}{escape(unit)}</text>')
    return _frame(width, 30 + len(items) * row, title, body)


def lines(labels: Sequence[str], series: dict[str, Sequence[float]], title: str) -> str:
    """One line per series over the labels (weeks), with a legend."""
    width, height, left, bottom, top_pad = 560, 220, 40, 30, 40
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = max((v for values in series.values() for v in values), default=0.0) or 1.0
    step = plot_w / max(1, len(labels) - 1)
    body = [f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
            f'y2="{top_pad + plot_h}" stroke="#999"/>',
            f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" {FONT}>{_num(top)}</text>',
            f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" {FONT}>0</text>']
    for i, label in enumerate(labels):
        body.append(f'<text x="{left + i * step:.1f}" y="{height - 12}" text-anchor="middle" '
                    f'{FONT}>{escape(label[-3:])}</text>')
    for k, (name, values) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        xy = [(left + i * step, top_pad + plot_h - v / top * plot_h)
              for i, v in enumerate(values)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in xy]
        body.append(f'<text x="{left + 8 + k * 90}" y="30" fill="{colour}" {FONT}>'
                    f'{escape(name)}</text>')
    return _frame(width, height, title, body)


def reliability(points: Sequence[tuple[float, float, int]], title: str) -> str:
    """Predicted (x) against observed (y) per bin, dot area by leads, and the diagonal a
    calibrated model lies on."""
    size, pad = 240, 30
    plot = size - 2 * pad
    body = [f'<rect x="{pad}" y="{pad}" width="{plot}" height="{plot}" fill="none" '
            f'stroke="#999"/>',
            f'<line x1="{pad}" y1="{pad + plot}" x2="{pad + plot}" y2="{pad}" stroke="#bbb" '
            f'stroke-dasharray="4 3"/>',
            f'<text x="{pad + plot / 2}" y="{size - 6}" text-anchor="middle" {FONT}>'
            f'predicted</text>',
            f'<text x="10" y="{pad + plot / 2}" {FONT} transform="rotate(-90 10 '
            f'{pad + plot / 2})" text-anchor="middle">observed</text>']
    most = max((n for _, _, n in points), default=1) or 1
    for predicted, observed, n in points:
        r = 2 + 6 * (n / most) ** 0.5
        body.append(f'<circle cx="{pad + predicted * plot:.1f}" '
                    f'cy="{pad + plot - observed * plot:.1f}" r="{r:.1f}" '
                    f'fill="{COLOURS[0]}" fill-opacity="0.7"/>')
    return _frame(size, size, title, body)


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.2f}"
