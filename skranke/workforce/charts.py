"""Server-side SVG charts: the geometry here, the markup in ``workforce/components/chart.html``.

No chart library and nothing from a CDN: a bar series and up to a few line series on one
axis, which is all the planning pages need (history, forecast, required against scheduled).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 760
HEIGHT = 190
LEFT = 40
RIGHT = 8
TOP = 10
BOTTOM = 24


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str
    css: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    css: str
    points: str
    label: str


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(slots=True)
class Chart:
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        return not self.bars and not self.lines


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def chart(
    title: str,
    labels: Sequence[str],
    *,
    bars: Sequence[float] | None = None,
    bar_label: str = "",
    bar_css: Sequence[str] | None = None,
    lines: Sequence[tuple[str, str, Sequence[float | None]]] = (),
    label_every: int = 1,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Bars (one per label) and lines ``(css class, legend label, values)`` on one y axis."""
    result = Chart(title=title, width=width, height=height)
    result.plot_right = width - RIGHT
    result.plot_bottom = height - BOTTOM
    count = len(labels)
    if count == 0:
        return result
    values = [v for v in (bars or []) if v is not None]
    for _, _, series in lines:
        values += [v for v in series if v is not None]
    top = _nice_max(max(values, default=0.0))
    plot_width = result.plot_right - LEFT
    plot_height = result.plot_bottom - TOP
    step = plot_width / count

    def y(value: float) -> float:
        return round(result.plot_bottom - value / top * plot_height, 1)

    for index in range(5):
        value = top * index / 4
        label = f"{value:g}" if value < 10 or value == int(value) else f"{value:.0f}"
        result.y_ticks.append(Tick(y(value), label))
    every = max(1, label_every)
    result.x_ticks = [
        Tick(round(LEFT + step * (index + 0.5), 1), labels[index])
        for index in range(0, count, every)
    ]
    if bars is not None:
        gap = min(2.0, step * 0.2)
        for index, value in enumerate(bars):
            if value is None:
                continue
            top_y = y(value)
            result.bars.append(
                Bar(
                    x=round(LEFT + step * index + gap / 2, 1),
                    y=top_y,
                    width=round(max(step - gap, 0.5), 1),
                    height=round(result.plot_bottom - top_y, 1),
                    title=f"{labels[index]}: {value:g}",
                    css=bar_css[index] if bar_css else "",
                )
            )
        if bar_label:
            result.legend.append(("bar", bar_label))
    for css, label, series in lines:
        points = " ".join(
            f"{round(LEFT + step * (index + 0.5), 1)},{y(value)}"
            for index, value in enumerate(series)
            if value is not None
        )
        result.lines.append(Line(css=css, points=points, label=label))
        result.legend.append((css, label))
    return result
