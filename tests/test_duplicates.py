"""Duplicates: the same incident told by different people is found on facts and wording, across kinds and
places; look-alike template reports about other plots or streets are not; the index finds an old case."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from bot import cases
from bot.dupfacts import extract
from bot.duplicates import check_lines, find_likely, own_similar
from bot.dupscore import Report, compare
from storage.models import Case, DuplicateTerm

DATA = Path(__file__).parent / "data" / "duplicates_labelled.jsonl"
ROOT = Path(__file__).resolve().parent.parent

BRIBE = (
    "Tôi làm hồ sơ cấp sổ đỏ cho thửa đất số 215, tờ bản đồ số 12. Ông Lê Văn Tuấn cán bộ địa chính xã "
    "Đầm Hà nói phải đưa 30 triệu thì mới ký, tôi đã đưa 15 triệu ngày 10/6."
)


def _labelled() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def _figures(rows: list[dict]) -> tuple[float, float]:
    tp = fp = fn = 0
    for row in rows:
        said = compare(Report(**row["a"]), Report(**row["b"])).duplicate
        tp += said and row["duplicate"]
        fp += said and not row["duplicate"]
        fn += row["duplicate"] and not said
    return tp / (tp + fp), tp / (tp + fn)


def test_the_labelled_set_has_every_shape():
    rows = _labelled()
    shapes = {row["shape"].split("+")[0] for row in rows}
    assert len(rows) >= 150
    assert {"victim_witness", "long_short", "template", "same_place_other_incident"} <= shapes
    assert any("cross_kind" in row["shape"] for row in rows)
    assert sum(row["duplicate"] for row in rows) >= 60 and sum(not row["duplicate"] for row in rows) >= 60


def test_precision_and_recall_on_the_labelled_set_stay_above_the_bar():
    precision, recall = _figures(_labelled())
    assert precision >= 0.90 and recall >= 0.80, (precision, recall)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("đòi 3tr mới làm", {3_000_000}),
        ("thu 1tr2 mỗi học sinh", {1_200_000}),
        ("gói thầu 4,5 tỷ đồng", {4_500_000_000}),
        ("goi thau 4.5 ty", {4_500_000_000}),
        ("nộp 1.200.000 đồng", {1_200_000}),
        ("đưa 500k cho qua", {500_000}),
        ("500 nghìn", {500_000}),
        ("30 trieu", {30_000_000}),
        ("lớp 8A có 30 học sinh, xe 14C-123.45", set()),
    ],
)
def test_amounts_with_units_and_short_forms(text, expected):
    assert extract(text).amounts == frozenset(expected)


def test_facts_read_the_same_with_and_without_diacritics():
    with_marks = extract(BRIBE)
    without = extract("can bo dia chinh Le Van Tuan xa Dam Ha doi 30 trieu cap so do thua 215 to ban do 12")
    assert {"plot:215", "sheet:12"} <= with_marks.plots & without.plots
    assert 30_000_000 in with_marks.amounts & without.amounts
    assert "le van tuan" in with_marks.people & without.people
    assert extract("xe 14C-123.45 chở than").plates == extract("xe 14c 12345 cho than").plates == {"14c12345"}
    assert extract("ngày 10/6 và 14-245").dates == {"10/6"}


def test_same_incident_across_kinds_places_and_lengths_is_a_duplicate():
    victim = Report(BRIBE, "corruption_tip", "Đầm Hà")
    witness = Report(
        "Tố cáo cán bộ địa chính Lê Văn Tuấn nhận tiền của dân. Hàng xóm tôi làm sổ đỏ thửa 215 bị đòi 30tr.",
        "denunciation",
        None,
    )
    verdict = compare(victim, witness)
    assert verdict.duplicate and "plot same" in verdict.evidence and "person same" in verdict.evidence


def test_a_template_report_about_another_plot_is_not_a_duplicate():
    other_plot = BRIBE.replace("215", "318").replace("Lê Văn Tuấn", "Phạm Văn Hòa")
    verdict = compare(Report(BRIBE), Report(other_plot))
    assert not verdict.duplicate and "plot differs" in verdict.evidence
    street = "Xin giấy phép xây nhà số 27 phố Lê Lợi, cán bộ một cửa hẹn mãi không trả, đòi gửi 10 triệu."
    other_street = street.replace("27 phố Lê Lợi", "112 phố Trần Hưng Đạo")
    verdict = compare(Report(street), Report(other_street))
    assert not verdict.duplicate and "name differs" in verdict.evidence


def test_empty_and_unrelated_reports_are_not_duplicates():
    assert not compare(Report(""), Report(BRIBE)).duplicate
    assert not compare(Report(BRIBE), Report("Đường liên thôn bị hỏng nặng, đề nghị sửa chữa sớm")).duplicate


# ---- the command line ---------------------------------------------------------------------------------


def test_duplicate_check_reads_json_lines_and_reports_bad_ones():
    lines = [
        json.dumps({"a": {"text": BRIBE, "kind": "corruption_tip", "place": "Đầm Hà"},
                    "b": {"text": "can bo dia chinh Tuan Dam Ha doi 30 trieu thua 215",
                          "kind": "denunciation", "place": ""}}),
        "not json",
        json.dumps({"a": {"text": BRIBE}, "b": {"text": 5}}),
        json.dumps({"a": {"text": BRIBE, "kind": "nonsense"}, "b": {"text": BRIBE}}),
        "",
        json.dumps({"a": {"text": BRIBE}, "b": {"text": BRIBE.replace("215", "318").replace("Tuấn", "Hòa")}}),
    ]
    out = io.StringIO()
    assert check_lines(io.StringIO("\n".join(lines)), out) == 1
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert results[0]["duplicate"] is True and results[0]["score"] >= 50 and results[0]["evidence"]
    assert [r.get("line") for r in results[1:4]] == [2, 3, 4] and all("error" in r for r in results[1:4])
    assert results[4]["duplicate"] is False


def test_duplicate_check_command_end_to_end():
    pair = {"a": {"text": BRIBE, "kind": "corruption_tip", "place": "Đầm Hà"},
            "b": {"text": BRIBE.replace("215", "318").replace("Tuấn", "Hòa"), "kind": "corruption_tip",
                  "place": "Đầm Hà"}}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "duplicate-check", "-"],
        input=json.dumps(pair, ensure_ascii=False) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [result] = [json.loads(line) for line in done.stdout.splitlines()]
    assert result["duplicate"] is False and "plot differs" in result["evidence"]


NOISE = "Đêm 12/5 chủ quán karaoke cạnh chợ mở nhạc to đến 2 giờ sáng, công an phường không xử lý."
NOISE_TOO = ("Quán karaoke cạnh chợ hát đến 2 giờ sáng đêm 12/5, báo công an mà không thấy ai đến, "
             "cả xóm mất ngủ.")


@pytest.mark.parametrize(
    "place_a, place_b, duplicate, place_evidence",
    [
        ("Phường Việt Hưng", "phường Giếng Đáy", True, "place same"),  # Giếng Đáy is part of Việt Hưng now
        ("Phường Hạ Long", "Hồng Hải", True, "place same"),
        ("Phường Cao Xanh", "P. Hà Khánh", True, "place same"),
        ("huyện Tiên Yên", "Xã Điền Xá", None, None),  # a ward of the former district: no evidence either way
        ("Phường Bãi Cháy", "phường Giếng Đáy", False, "place differs"),  # two wards of today
        ("Phường Việt Hưng", "Paris", False, "place differs"),
    ],
)
def test_an_old_and_a_new_name_of_one_place_are_the_same_place(place_a, place_b, duplicate, place_evidence):
    """`duplicate` None: the places weigh neither way, so the verdict is the one without any place."""
    pair = {"a": {"text": NOISE, "kind": "petition", "place": place_a},
            "b": {"text": NOISE_TOO, "kind": "denunciation", "place": place_b}}
    unplaced = {"a": {"text": NOISE, "kind": "petition"}, "b": {"text": NOISE_TOO, "kind": "denunciation"}}
    lines = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in (pair, unplaced))
    done = subprocess.run([sys.executable, "-m", "bot", "duplicate-check", "-"], cwd=ROOT, timeout=120,
                          input=lines, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result, baseline = [json.loads(line) for line in done.stdout.splitlines()]
    if duplicate is None:
        same = ("duplicate", "probability")
        assert [result[k] for k in same] == [baseline[k] for k in same]
    else:
        assert result["duplicate"] is duplicate, result
    place = [e for e in result["evidence"] if e.startswith("place")]
    assert place == ([place_evidence] if place_evidence else [])


# ---- the index, on both databases -----------------------------------------------------------------------

FILLER = (
    "Đường bê tông thôn {n} bị nứt sau {m} tháng, đề nghị kiểm tra nhà thầu số {n}",
    "Trường học số {n} thu tiền quỹ lớp {m} trăm nghìn, phụ huynh bức xúc",
    "Cán bộ xã số {n} chậm giải quyết hồ sơ thửa {m}, hẹn nhiều lần",
)


async def _file(core, text: str, *, kind: str = "corruption_tip", place: str | None = None, user: str = "1"):
    sender = cases.Citizen("telegram", user, user)
    draft = cases.Draft(kind=kind, summary=text, area_name=place)
    async with core.sessions() as session, session.begin():
        filed = await cases.submit(session, core, sender, draft)
        return filed.case


async def test_an_old_case_is_found_among_many_newer_ones_across_kinds_and_places(core):
    original = await _file(core, BRIBE, kind="corruption_tip", place="Xã Đầm Hà", user="1")
    for n in range(45):
        await _file(core, FILLER[n % 3].format(n=n + 1000, m=n % 11 + 2), kind="petition", user=str(100 + n))
    witness = await _file(
        core,
        "To cao can bo dia chinh Le Van Tuan nhan tien cua dan, hang xom toi lam so do thua 215 bi doi 30tr",
        kind="denunciation",
        place=None,
        user="2",
    )
    assert [d["code"] for d in witness.likely_duplicates] == [original.code]
    assert witness.likely_duplicates[0]["score"] >= 50
    async with core.sessions() as session:
        terms = select(DuplicateTerm).where(DuplicateTerm.case_id == original.id)
        assert (await session.execute(terms)).first()


async def test_closed_cases_and_look_alikes_are_not_listed(core):
    closed = await _file(core, BRIBE, user="1")
    async with core.sessions() as session, session.begin():
        await session.execute(update(Case).where(Case.id == closed.id).values(status="resolved"))
    await _file(core, BRIBE.replace("215", "318").replace("Lê Văn Tuấn", "Vũ Đức Thắng"), user="3")
    async with core.sessions() as session:
        assert await find_likely(session, Report(BRIBE)) == []


async def test_a_citizen_is_shown_only_their_own_earlier_report(core):
    mine = await _file(core, BRIBE, user="1")
    await _file(core, BRIBE, user="2")
    async with core.sessions() as session:
        key = cases.reporter_key(core, cases.Citizen("telegram", "1", "1"))
        found = await own_similar(session, Report(BRIBE), key)
        stranger = cases.reporter_key(core, cases.Citizen("telegram", "9", "9"))
        assert await own_similar(session, Report(BRIBE), stranger) == []
    assert [f.code for f in found] == [mine.code]


async def test_cases_filed_before_the_index_are_backfilled_and_found(core):
    from bot.duplicates import backfill

    original = await _file(core, BRIBE, kind="corruption_tip", place="Xã Đầm Hà", user="1")
    closed = await _file(core, FILLER[0].format(n=7, m=3), kind="petition", user="3")
    async with core.sessions() as session, session.begin():  # as if filed before the index existed
        await session.execute(delete(DuplicateTerm))
        await session.execute(update(Case).where(Case.id == closed.id).values(status="resolved"))
    assert await backfill(core.sessions) == 1, "the open case is indexed, the closed one is not"
    assert await backfill(core.sessions) == 0, "nothing twice"
    witness = await _file(
        core, "To cao can bo dia chinh Le Van Tuan doi 30tr lam so do thua 215", kind="denunciation", user="2"
    )
    assert [d["code"] for d in witness.likely_duplicates] == [original.code]
