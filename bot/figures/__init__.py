"""Figures for agencies and the secretariat: scorecards, targets, charts and the periodic report.

`scorecards()` is the entry point; everything else (chat text, charts, documents) is drawn from it.
"""

from bot.figures.scorecard import Durations, Scorecard, scorecards, total

__all__ = ["Durations", "Scorecard", "scorecards", "total"]
