"""Charts drawn on the server as SVG: no script, so they show without JavaScript,
print, and go into the PDF as they are.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (the text
summary), and the page puts the table of its numbers beside it. Series differ by
colour, line pattern and marker shape, so they read in greyscale too. Only
presentation attributes are used (the Content-Security-Policy forbids inline
styles). A value suppressed in an export (1 to 4) is drawn as a gap.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup

from .metrics import CoresponseFigures
from .tables import Cell, Table, count, minutes, text

WIDTH = 720
FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
INK = "#1b1b1b"
GRID = "#dfe1e2"
SERIES_STYLES = [  # colour, dash pattern, marker
    ("#005ea2", "", "circle"),
    ("#c05600", "6 4", "square"),
    ("#00bde3", "2 3", "diamond"),
]


@dataclass
class Chart:
    key: str
    title: str
    summary: str
    svg: Markup
    table: Table


def _nice_max(value: float, intervals: int = 4) -> float:
    """The top of the axis: ``intervals`` steps of 1, 2, 2.5 or 5 times a power of ten, whole
    numbers only (counts and minutes), at least 1 per step."""
    for magnitude in (10 ** k for k in range(0, 12)):
        for step in (1, 2, 2.5, 5):
            size = step * magnitude
            if size == int(size) and value <= size * intervals:
                return size * intervals
    return value  # pragma: no cover


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


# Every fragment is a literal Markup template filled by .format(), which escapes
# each value: no text reaches the SVG unescaped.
_TEXT = Markup('<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{ink}" font-family="{font}"{extra}>{text}</text>')
_LINE = Markup('<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"{extra}/>')
_RECT = Markup('<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}"/>')


def _text(x: float, y: float, text: str, size: int = 12, anchor: str | None = None, rotate: bool = False) -> Markup:
    extra = Markup("")
    if anchor:
        extra += Markup(' text-anchor="{}"').format(anchor)
    if rotate:
        extra += Markup(' transform="rotate(-90 {x:.1f} {y:.1f})"').format(x=x, y=y)
    return _TEXT.format(x=x, y=y, size=size, ink=INK, font=FONT, extra=extra, text=text)


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float | None = None, dash: str = "") -> Markup:
    extra = Markup("")
    if width:
        extra += Markup(' stroke-width="{}"').format(width)
    if dash:
        extra += Markup(' stroke-dasharray="{}"').format(dash)
    return _LINE.format(x1=x1, y1=y1, x2=x2, y2=y2, colour=colour, extra=extra)


def _marker(shape: str, x: float, y: float, colour: str) -> Markup:
    if shape == "square":
        return _RECT.format(x=x - 4, y=y - 4, w=8, h=8, colour=colour)
    if shape == "diamond":
        return Markup('<polygon points="{x:.1f},{top:.1f} {right:.1f},{y:.1f} {x:.1f},{bottom:.1f} {left:.1f},{y:.1f}" '
                      'fill="{colour}"/>').format(x=x, y=y, top=y - 5, bottom=y + 5, left=x - 5, right=x + 5, colour=colour)
    return Markup('<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{colour}"/>').format(x=x, y=y, colour=colour)


def _open(chart_id: str, title: str, summary: str, height: int) -> list[Markup]:
    return [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="app-chart__svg" role="img" '
                   'viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
                   'aria-labelledby="{id}-title {id}-desc" data-chart="{id}">'
                   '<title id="{id}-title">{title}</title><desc id="{id}-desc">{summary}</desc>'
                   ).format(w=WIDTH, h=height, id=chart_id, title=title, summary=summary),
            _RECT.format(x=0, y=0, w=WIDTH, h=height, colour="#ffffff")]


def _close(parts: list[Markup]) -> Markup:
    return Markup("").join([*parts, Markup("</svg>")])


def line_chart(chart_id: str, title: str, summary: str, labels: list[str],
               series: list[tuple[str, list[float | None]]], y_label: str) -> Markup:
    height, left, right, top, bottom = 300, 56, 40, 40, 48
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    y_max = _nice_max(max(values, default=0))
    parts = _open(chart_id, title, summary, height)
    for i in range(5):  # grid and y ticks
        value = y_max * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(_line(left, y, WIDTH - right, y, GRID))
        parts.append(_text(left - 6, y + 4, _fmt(value), anchor="end"))
    parts.append(_text(12, top + plot_h / 2, y_label, anchor="middle", rotate=True))
    n = len(labels)
    step = plot_w / max(n - 1, 1)

    def x_of(i: int) -> float:
        return left + (step * i if n > 1 else plot_w / 2)

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * v / y_max

    every = max(1, math.ceil(n / 12))
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            parts.append(_text(x_of(i), height - bottom + 18, label, size=11, anchor="middle"))
    parts.append(_line(left, top + plot_h, WIDTH - right, top + plot_h, INK))
    legend_x = left
    for index, (name, vs) in enumerate(series):
        colour, dash, shape = SERIES_STYLES[index % len(SERIES_STYLES)]
        width = 4 if index == 0 else 2  # the first series is wider, so it shows beneath an equal second one
        runs: list[list[str]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x_of(i):.1f},{y_of(v):.1f}")
        for run in runs:
            if len(run) > 1:
                parts.append(Markup('<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="{width}"'
                                    '{dash}/>').format(points=" ".join(run), colour=colour, width=width,
                                                       dash=Markup(' stroke-dasharray="{}"').format(dash) if dash else ""))
        for i, v in enumerate(vs):
            if v is not None:
                parts.append(_marker(shape, x_of(i), y_of(v), colour))
        parts.append(_line(legend_x, 16, legend_x + 28, 16, colour, width=2.5, dash=dash))
        parts.append(_marker(shape, legend_x + 14, 16, colour))
        parts.append(_text(legend_x + 34, 20, name))
        legend_x += 44 + 7 * len(name)
    return _close(parts)


def bar_chart(chart_id: str, title: str, summary: str, items: list[tuple[str, float | None, str]]) -> Markup:
    """Horizontal bars, each labelled above its bar; ``items`` are (label, value or None, value text)."""
    row_h, top, left, right = 38, 8, 8, 70
    height = top + row_h * max(len(items), 1) + 8
    plot_w = WIDTH - left - right
    x_max = max((v for _, v, _ in items if v is not None), default=0) or 1  # bars relative to the longest
    parts = _open(chart_id, title, summary, height)
    colour = SERIES_STYLES[0][0]
    for i, (label, value, shown) in enumerate(items):
        y = top + row_h * i
        parts.append(_text(left, y + 13, label))
        parts.append(_RECT.format(x=left, y=y + 18, w=plot_w, h=14, colour="#f0f0f0"))
        if value:
            parts.append(_RECT.format(x=left, y=y + 18, w=plot_w * value / x_max, h=14, colour=colour))
        parts.append(_text(left + plot_w + 6, y + 30, shown))
    return _close(parts)


def _plotted(cell: Cell, suppress: bool) -> float | None:
    """The value to draw: None when the export hides it, or there is none."""
    shown = cell.text(suppress)
    if cell.value is None or shown in ("<5", "n<5", "–"):
        return None
    return float(cell.value)


def coresponse_charts(f: CoresponseFigures, suppress: bool) -> list[Chart]:
    labels = [m.month.short for m in f.months]
    first, last = f.months[0], f.months[-1]
    flagged = [count(m.flagged) for m in f.months]
    corr = [count(m.coresponses) for m in f.months]
    busiest = max(f.months, key=lambda m: m.flagged)
    trend_summary = (
        f"From {first.month.title} to {last.month.title}, calls flagged for co-response went from "
        f"{flagged[0].text(suppress)} to {flagged[-1].text(suppress)} a month and co-responses from "
        f"{corr[0].text(suppress)} to {corr[-1].text(suppress)}. The month with the most flagged calls was "
        f"{busiest.month.title} ({count(busiest.flagged).text(suppress)}).")
    trend_table = Table("chart_trend", "Calls flagged and co-responses by month",
                        ["Month", "Calls flagged", "Co-responses"],
                        [[text(m.month.short), a, b] for m, a, b in zip(f.months, flagged, corr, strict=True)])
    trend = Chart("trend", "Calls flagged and co-responses by month", trend_summary, line_chart(
        "chart-trend", "Calls flagged and co-responses by month", trend_summary, labels,
        [("Calls flagged", [_plotted(c, suppress) for c in flagged]),
         ("Co-responses", [_plotted(c, suppress) for c in corr])], "Count"), trend_table)

    total = f.encounters
    shown = [d for d in f.dispositions if d.count] or f.dispositions[:0]
    cells = [count(d.count) for d in shown]
    if shown:
        top = max(shown, key=lambda d: d.count)
        disposition_summary = (
            f"{count(total).text(suppress)} encounters in the period. The most frequent disposition was "
            f"{top.label} ({count(top.count).text(suppress)}). {count(f.diversion_dispositions).text(suppress)} "
            f"had a disposition counted as a diversion; custody was diverted in "
            f"{count(f.custody_diverted.yes).text(suppress)} and an emergency department visit prevented in "
            f"{count(f.ed_prevented.yes).text(suppress)}.")
    else:
        disposition_summary = "No encounters were recorded in the period."
    disposition_table = Table("chart_dispositions", "Encounters by disposition", ["Disposition", "Encounters"],
                              [[text(d.label), c] for d, c in zip(shown, cells, strict=True)])
    dispositions = Chart("dispositions", "Encounters by disposition", disposition_summary, bar_chart(
        "chart-dispositions", "Encounters by disposition", disposition_summary,
        [(d.label, _plotted(c, suppress), c.text(suppress)) for d, c in zip(shown, cells, strict=True)]),
        disposition_table)

    med = [minutes(m.contact_median, m.contact_n) for m in f.months]
    p90 = [minutes(m.contact_p90, m.contact_n) for m in f.months]
    known = [(m, a, b) for m, a, b in zip(f.months, med, p90, strict=True) if _plotted(a, suppress) is not None]
    if known:
        contact_summary = (
            f"Median minutes from flag to first contact: {known[0][1].text(suppress)} in "
            f"{known[0][0].month.title}, {known[-1][1].text(suppress)} in {known[-1][0].month.title}; "
            f"90th percentile {known[0][2].text(suppress)} and {known[-1][2].text(suppress)}. For the whole "
            f"period the median is {minutes(f.contact_median, f.contact_n).text(suppress)} minutes.")
    else:
        contact_summary = "No month has enough first contacts to show a time."
    contact_table = Table("chart_contact", "Minutes from flag to first contact by month",
                          ["Month", "Median minutes", "90th percentile minutes", "Calls"],
                          [[text(m.month.short), a, b, count(m.contact_n)]
                           for m, a, b in zip(f.months, med, p90, strict=True)])
    contact = Chart("contact", "Minutes from flag to first contact by month", contact_summary, line_chart(
        "chart-contact", "Minutes from flag to first contact by month", contact_summary, labels,
        [("Median", [_plotted(c, suppress) for c in med]),
         ("90th percentile", [_plotted(c, suppress) for c in p90])], "Minutes"), contact_table)
    return [trend, dispositions, contact]
