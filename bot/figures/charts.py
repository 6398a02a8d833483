"""The three charts as PNG images, drawn headless with matplotlib: read on a phone and printed in a report.

DejaVu Sans (shipped with matplotlib) has every Vietnamese letter with its marks, so labels render as
written; the figures are drawn with the object API, so charts drawn at the same time do not mix. Counts
are whole numbers on their axis; each series has its own hatching as well as its colour, so a page
printed in grey still tells them apart; the target line is labelled; a chart with nothing to show says
so instead of drawing empty axes. 150 dpi: sharp on paper, still small in a chat.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global figure state
from matplotlib.ticker import MaxNLocator

from bot.i18n import t

FONT = {"font.family": "DejaVu Sans", "font.size": 12, "hatch.linewidth": 0.8}
SIZE = (9, 6)  # inches at 150 dpi: 1350 x 900 pixels, full width on a phone and half a printed page
DPI = 150
EDGE = "#202020"  # bars are outlined, so light ones stay visible on white paper
# (colour, hatch) per series: colours of distinct lightness, and hatches that differ in any case.
STATUS_STYLES = {"new": ("#fdb863", ""), "accepted": ("#2166ac", "//"), "waiting_info": ("#d9d9d9", ".."),
                 "investigating": ("#762a83", "xx"), "resolved": ("#5aae61", "\\\\"),
                 "rejected": ("#b2182b", "--"), "merged": ("#8c8c8c", "++")}
KIND_STYLES = {"complaint": ("#2166ac", "//"), "denunciation": ("#b2182b", "\\\\"),
               "corruption_tip": ("#fdb863", ""), "crime_report": ("#762a83", "xx"),
               "petition": ("#5aae61", "..")}
SPARE_HATCHES = ("oo", "||", "**", "O", "-\\", "|/")  # for series the tables above do not name
RATE_LINE = {"color": "#1b5e20", "marker": "o", "linewidth": 2.5}
TARGET_LINE = {"color": "#b2182b", "linestyle": "--", "linewidth": 1.8}


LOCK = threading.Lock()  # rc_context changes matplotlib's global settings: one drawing at a time


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def _figure() -> Figure:
    return Figure(figsize=SIZE, layout="constrained")


def _label(key: str, locale: str) -> str:
    try:
        return t(key, locale)
    except KeyError:
        return key.rsplit(".", 1)[-1]


def _style(styles: dict[str, tuple[str, str]], name: str, spare: list[str]) -> tuple[str | None, str]:
    """A series' colour and hatch; one not in `styles` takes the next unused hatch of `spare`."""
    if name in styles:
        return styles[name]
    return None, spare.pop(0) if spare else ""


def _stacked(draw: Callable[..., object], groups: list[dict[str, int]], series: list[str],
             styles: dict[str, tuple[str, str]], kind: str, locale: str) -> None:
    """One layer of bars per series, each on top of the ones before, coloured, hatched and outlined;
    `draw(values, base, **style)` lays a layer across or up."""
    base = [0] * len(groups)
    spare = list(SPARE_HATCHES)
    for name in series:
        values = [group.get(name, 0) for group in groups]
        colour, hatch = _style(styles, name, spare)
        draw(values, base, color=colour, hatch=hatch, edgecolor=EDGE, linewidth=0.6,
             label=_label(f"{kind}.{name}", locale))
        base = [b + v for b, v in zip(base, values, strict=True)]


def _no_data(ax: Axes, title: str, locale: str) -> None:
    """Say there is nothing to show, where the chart would be."""
    ax.set_title(title, fontweight="bold")
    ax.text(0.5, 0.5, t("figures.chart.no_data", locale), ha="center", va="center", fontsize=18,
            color="#404040", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def status_figure(data: dict[str, dict[str, int]], names: dict[str, str], locale: str = "vi") -> Figure:
    """Stacked horizontal bars: cases per agency, coloured and hatched by status."""
    fig = _figure()
    ax = fig.subplots()
    title = t("figures.chart.status", locale)
    agencies = [a for a in names if a in data] or list(data)
    if not any(sum(data[a].values()) for a in agencies):
        _no_data(ax, title, locale)
        return fig
    statuses = [s for s in STATUS_STYLES if any(s in data[a] for a in agencies)]
    statuses += sorted({s for a in agencies for s in data[a]} - set(statuses))
    labels = [names.get(a, a) for a in agencies]
    _stacked(lambda values, base, **style: ax.barh(labels, values, left=base, **style),
             [data[a] for a in agencies], statuses, STATUS_STYLES, "status", locale)
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("figures.chart.cases", locale))
    ax.set_title(title, fontweight="bold")
    ax.legend(loc="lower right", fontsize=10)
    return fig


Months = dict[dt.date, tuple[int, int]]  # first day of a month -> (cases resolved, of them on time)


def on_time_figure(data: Months, locale: str = "vi", goal: float | None = None) -> Figure:
    """Line of the on-time rate per month (months without resolutions are gaps), with the target line
    labelled."""
    fig = _figure()
    ax = fig.subplots()
    title = t("figures.chart.on_time", locale)
    if not any(n for n, _ in data.values()):
        _no_data(ax, title, locale)
        return fig
    months = list(data)
    rates = [100 * done / n if n else float("nan") for n, done in data.values()]
    ax.plot([m.strftime("%m/%Y") for m in months], rates, label=t("figures.chart.rate", locale), **RATE_LINE)
    for x, (n, done) in enumerate(data.values()):
        if n:
            ax.annotate(f"{done}/{n}", (x, 100 * done / n), textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize=10)
    if goal is not None:
        ax.axhline(goal, label=t("figures.chart.target", locale, goal=f"{goal:g}"), **TARGET_LINE)
    ax.set_ylim(0, 110)
    ax.set_xlabel(t("figures.chart.month", locale))
    ax.set_ylabel("%")
    ax.set_title(title, fontweight="bold")
    ax.tick_params(axis="x", rotation=45)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower left", fontsize=10)
    return fig


def intake_figure(data: dict[dt.date, dict[str, int]], locale: str = "vi") -> Figure:
    """Stacked bars of the cases received each week, coloured and hatched by kind."""
    fig = _figure()
    ax = fig.subplots()
    title = t("figures.chart.intake", locale)
    weeks = list(data)
    if not any(sum(data[w].values()) for w in weeks):
        _no_data(ax, title, locale)
        return fig
    x = list(range(len(weeks)))
    kinds = [k for k in KIND_STYLES if any(k in data[w] for w in weeks)]
    _stacked(lambda values, base, **style: ax.bar(x, values, bottom=base, **style),
             [data[w] for w in weeks], kinds, KIND_STYLES, "kind", locale)
    step = max(1, len(weeks) // 12)
    ax.set_xticks(x[::step], [w.strftime("%d/%m") for w in weeks[::step]], rotation=45)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("figures.chart.week", locale))
    ax.set_ylabel(t("figures.chart.cases", locale))
    ax.set_title(title, fontweight="bold")
    ax.legend(loc="upper left", fontsize=10)
    return fig


def status_chart(data: dict[str, dict[str, int]], names: dict[str, str], locale: str = "vi") -> bytes:
    with LOCK, matplotlib.rc_context(FONT):
        return _png(status_figure(data, names, locale))


def on_time_chart(data: Months, locale: str = "vi", goal: float | None = None) -> bytes:
    with LOCK, matplotlib.rc_context(FONT):
        return _png(on_time_figure(data, locale, goal))


def intake_chart(data: dict[dt.date, dict[str, int]], locale: str = "vi") -> bytes:
    with LOCK, matplotlib.rc_context(FONT):
        return _png(intake_figure(data, locale))
