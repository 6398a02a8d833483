"""The five kinds of report; their ids are used by the rules, the CLI and other systems: keep them."""

from __future__ import annotations

from typing import Final

COMPLAINT: Final = "complaint"  # khiếu nại
DENUNCIATION: Final = "denunciation"  # tố cáo
CORRUPTION_TIP: Final = "corruption_tip"  # tin báo tham nhũng, tiêu cực, lãng phí
CRIME_REPORT: Final = "crime_report"  # tố giác, tin báo về tội phạm
PETITION: Final = "petition"  # kiến nghị, phản ánh

KINDS: Final[tuple[str, ...]] = (COMPLAINT, DENUNCIATION, CORRUPTION_TIP, CRIME_REPORT, PETITION)

# Kinds for which the law requires the reporter's name and address
# (Luật Khiếu nại 2011 Điều 8, Luật Tố cáo 2018 Điều 23).
NAMED_REQUIRED: Final[frozenset[str]] = frozenset({COMPLAINT, DENUNCIATION})
