"""The three charts as PNG images, drawn headless with matplotlib and sized to be read on a phone.

DejaVu Sans (shipped with matplotlib) has every Vietnamese letter with its marks, so labels render as
written; the figures are drawn with the object API, so charts drawn at the same time do not mix.
"""

from __future__ import annotations

import datetime as dt
import io
import threading

import matplotlib
from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global figure state

from bot.i18n import t

FONT = {"font.family": "DejaVu Sans", "font.size": 12}
SIZE = (9, 6)  # inches at 120 dpi: 1080 x 720 pixels, Telegram shows it full width on a phone
DPI = 120
STATUS_COLOURS = {"new": "#f2a541", "accepted": "#3d7dca", "waiting_info": "#a0a0a0",
                  "investigating": "#8e44ad", "resolved": "#2e8b57", "rejected": "#c0392b"}
KIND_COLOURS = {"complaint": "#3d7dca", "denunciation": "#c0392b", "corruption_tip": "#f2a541",
                "crime_report": "#8e44ad", "petition": "#2e8b57"}


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


def status_chart(data: dict[str, dict[str, int]], names: dict[str, str], locale: str = "vi") -> bytes:
    """Stacked horizontal bars: cases per agency, coloured by status."""
    with LOCK, matplotlib.rc_context(FONT):
        fig = _figure()
        ax = fig.subplots()
        agencies = [a for a in names if a in data] or list(data)
        statuses = [s for s in STATUS_COLOURS if any(s in data[a] for a in agencies)]
        statuses += sorted({s for a in agencies for s in data[a]} - set(statuses))
        left = [0] * len(agencies)
        labels = [names.get(a, a) for a in agencies]
        for status in statuses:
            values = [data[a].get(status, 0) for a in agencies]
            ax.barh(labels, values, left=left, color=STATUS_COLOURS.get(status),
                    label=_label(f"status.{status}", locale))
            left = [x + v for x, v in zip(left, values, strict=True)]
        ax.invert_yaxis()
        ax.set_xlabel(t("figures.chart.cases", locale))
        ax.set_title(t("figures.chart.status", locale), fontweight="bold")
        if statuses:
            ax.legend(loc="lower right", fontsize=10)
        return _png(fig)


def on_time_chart(data: dict[dt.date, tuple[int, int]], locale: str = "vi",
                  goal: float | None = None) -> bytes:
    """Line of the on-time rate per month (months without resolutions are gaps), with the target."""
    with LOCK, matplotlib.rc_context(FONT):
        fig = _figure()
        ax = fig.subplots()
        months = list(data)
        rates = [100 * done / n if n else float("nan") for n, done in data.values()]
        ax.plot([m.strftime("%m/%Y") for m in months], rates, marker="o", linewidth=2.5, color="#2e8b57")
        for x, (n, done) in enumerate(data.values()):
            if n:
                ax.annotate(f"{done}/{n}", (x, 100 * done / n), textcoords="offset points", xytext=(0, 8),
                            ha="center", fontsize=10)
        if goal is not None:
            ax.axhline(goal, color="#c0392b", linestyle="--", linewidth=1.5)
        ax.set_ylim(0, 110)
        ax.set_xlabel(t("figures.chart.month", locale))
        ax.set_ylabel("%")
        ax.set_title(t("figures.chart.on_time", locale), fontweight="bold")
        ax.tick_params(axis="x", rotation=45)
        ax.grid(axis="y", alpha=0.3)
        return _png(fig)


def intake_chart(data: dict[dt.date, dict[str, int]], locale: str = "vi") -> bytes:
    """Stacked bars of the cases received each week, by kind."""
    with LOCK, matplotlib.rc_context(FONT):
        fig = _figure()
        ax = fig.subplots()
        weeks = list(data)
        x = list(range(len(weeks)))
        bottom = [0] * len(weeks)
        kinds = [k for k in KIND_COLOURS if any(k in data[w] for w in weeks)]
        for kind in kinds:
            values = [data[w].get(kind, 0) for w in weeks]
            ax.bar(x, values, bottom=bottom, color=KIND_COLOURS[kind], label=_label(f"kind.{kind}", locale))
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        step = max(1, len(weeks) // 12)
        ax.set_xticks(x[::step], [w.strftime("%d/%m") for w in weeks[::step]], rotation=45)
        ax.set_xlabel(t("figures.chart.week", locale))
        ax.set_ylabel(t("figures.chart.cases", locale))
        ax.set_title(t("figures.chart.intake", locale), fontweight="bold")
        if kinds:
            ax.legend(loc="upper left", fontsize=10)
        return _png(fig)
