"""Finding a ward or commune of Quảng Ninh (post-2025, no districts) from what a citizen types, by the
names of today or of before the reform."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.former_places import DISTRICT, WARD, former_units
from bot.places import all_places, by_code, find_in_text, search

ROOT = Path(__file__).resolve().parent.parent


def test_the_province_has_its_current_wards_communes_and_special_zones():
    names = {p.name for p in all_places()}
    assert len(names) == 54
    assert {"Phường Hạ Long", "Đặc khu Vân Đồn", "Đặc khu Cô Tô", "Xã Tiên Yên"} <= names
    assert not any("Huyện" in n or "Thành phố" in n for n in names)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Hạ Long", "Phường Hạ Long"),
        ("ha long", "Phường Hạ Long"),
        ("phuong bai chay", "Phường Bãi Cháy"),
        ("Dam Ha", "Xã Đầm Hà"),
        ("van don", "Đặc khu Vân Đồn"),
        ("Uong Bi", "Phường Uông Bí"),
        ("tien yen", "Xã Tiên Yên"),
    ],
)
def test_search_ignores_diacritics_case_and_type_words(typed, expected):
    assert search(typed)[0].place.name == expected


def test_search_tolerates_typos_and_offers_several():
    assert "Phường Cẩm Phả" in [f.place.name for f in search("Cam Pa")]
    assert len(search("Móng Cái")) >= 3


def test_nothing_close_gives_nothing():
    assert search("Paris") == [] and search("   ") == []


def test_by_code_round_trips_and_rejects_unknown():
    place = search("Cô Tô")[0].place
    assert by_code(place.code) == place and by_code("999999") is None


def test_a_place_named_in_a_story_is_found():
    assert find_in_text("Ở xã Đầm Hà có người khai thác cát trái phép").place.name == "Xã Đầm Hà"
    assert find_in_text("Không nói địa điểm nào cả") is None


# ---- names from before the 2025 reform ------------------------------------------------------------------


def _offered(text: str) -> list[tuple[str, str | None]]:
    return [(f.place.name, f.former.name if f.former else None) for f in search(text)]


@pytest.mark.parametrize(
    "typed, ward, former",
    [
        ("phường Hồng Hà", "Phường Hạ Long", "Phường Hồng Hà"),
        ("Hồng Hải", "Phường Hạ Long", "Phường Hồng Hải"),
        ("gieng day", "Phường Việt Hưng", "Phường Giếng Đáy"),
        ("P. Hà Khánh", "Phường Cao Xanh", "Phường Hà Khánh"),
        ("thị trấn Tiên Yên", "Xã Tiên Yên", "Thị trấn Tiên Yên"),
        ("Cao Xanh", "Phường Cao Xanh", None),  # today's name: no old name to show
        ("Bãi Cháy", "Phường Bãi Cháy", None),
    ],
)
def test_an_old_ward_name_leads_to_the_ward_it_became(typed, ward, former):
    assert _offered(typed) == [(ward, former)]


def test_the_conversion_follows_the_resolution_for_split_communes():
    """Resolution 1679/NQ-UBTVQH15 split these between two or three new communes or wards."""
    assert {w for w, _ in _offered("xã Vô Ngại")} == {"Xã Bình Liêu", "Xã Tiên Yên"}
    assert {w for w, _ in _offered("xã Đồng Lâm")} == {"Phường Hoành Bồ", "Xã Thống Nhất"}
    assert {w for w, _ in _offered("xã Đông Ngũ")} == {"Xã Đông Ngũ", "Xã Tiên Yên"}
    assert _offered("xã Hải Lạng")[0] == ("Xã Hải Lạng", None)  # today's commune of that name first
    assert {w for w, _ in _offered("xã Hải Lạng")} == {"Xã Hải Lạng", "Xã Ba Chẽ", "Xã Hải Hòa"}


def test_every_old_unit_leads_somewhere_and_every_ward_is_reached():
    olds = [f for f in former_units() if f.level == WARD]
    districts = [f for f in former_units() if f.level == DISTRICT]
    assert len(olds) == 171 and len(districts) == 13
    assert all(f.became and all(by_code(c) for c in f.became) for f in former_units())
    assert {c for f in olds for c in f.became} == {p.code for p in all_places()}


@pytest.mark.parametrize(
    "typed, first, wards",
    [
        ("huyện Tiên Yên", "Xã Tiên Yên", {"Xã Tiên Yên", "Xã Điền Xá", "Xã Đông Ngũ", "Xã Hải Lạng",
                                          "Xã Ba Chẽ", "Xã Hải Hòa"}),
        ("thị xã Quảng Yên", "Phường Quảng Yên", {"Phường Quảng Yên", "Phường Hà An", "Phường Phong Cốc",
                                                  "Phường Liên Hòa", "Phường Đông Mai", "Phường Hiệp Hòa"}),
        ("TP Cẩm Phả", "Phường Cẩm Phả", {"Phường Cẩm Phả", "Phường Cửa Ông", "Phường Quang Hanh",
                                         "Phường Mông Dương", "Xã Hải Hòa", "Xã Hải Lạng"}),
        ("tx quang yen", "Phường Quảng Yên", None),
        ("Thành phố Hạ Long", "Phường Hạ Long", None),
    ],
)
def test_an_old_district_offers_the_wards_it_became(typed, first, wards):
    offered = _offered(typed)
    assert offered[0][0] == first
    assert {former for _, former in offered} == {search(typed)[0].former.name}  # all through the district
    if wards is not None:
        assert {w for w, _ in offered} == wards


def test_a_bare_name_of_today_comes_first_then_what_the_old_names_became():
    ha_long = _offered("Hạ Long")
    assert ha_long[0] == ("Phường Hạ Long", None)
    assert {("Xã Thống Nhất", "Thành phố Hạ Long"), ("Phường Bãi Cháy", "Thành phố Hạ Long")} <= set(ha_long)
    assert ha_long[-1] == ("Đặc khu Vân Đồn", "Xã Hạ Long")  # there was a xã Hạ Long in Vân Đồn
    assert _offered("Hoành Bồ")[0] == ("Phường Hoành Bồ", None)
    assert _offered("xã Tiên Yên") == [("Xã Tiên Yên", None)]  # "xã": not the old district


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Hồng Hà, TP Hạ Long", [("Phường Hạ Long", "Phường Hồng Hà")]),
        ("phường Hồng Hà, Hạ Long, Quảng Ninh", [("Phường Hạ Long", "Phường Hồng Hà")]),
        ("hong ha ha long", [("Phường Hạ Long", "Phường Hồng Hà")]),
        ("Bắc Sơn, Móng Cái", [("Xã Hải Sơn", "Xã Bắc Sơn")]),
        ("Bắc Sơn, Uông Bí", [("Phường Vàng Danh", "Phường Bắc Sơn")]),
        ("xã Hạ Long, huyện Vân Đồn", [("Đặc khu Vân Đồn", "Xã Hạ Long")]),
    ],
)
def test_a_district_beside_a_ward_name_keeps_the_wards_of_that_district(typed, expected):
    assert len(search("Bắc Sơn")) == 2  # one in Uông Bí, one in Móng Cái
    assert _offered(typed) == expected


@pytest.mark.parametrize("typed", ["Paris", "huyện Paris", "Quảng Ninh", "tp", "!!!", ", ,", ""])
def test_names_that_are_no_place_of_the_province_give_nothing(typed):
    assert search(typed) == []


def test_a_misspelt_old_name_is_still_offered():
    assert _offered("Gieng Dai")[0] == ("Phường Việt Hưng", "Phường Giếng Đáy")
    assert _offered("Hong Haa")[0] == ("Phường Hạ Long", "Phường Hồng Hà")


def test_an_old_name_with_its_type_word_in_a_story_proposes_the_ward_it_became():
    found = find_in_text("Tối qua ở phường Giếng Đáy, TP Hạ Long có nhóm thanh niên đua xe")
    assert (found.place.name, found.former.name) == ("Phường Việt Hưng", "Phường Giếng Đáy")
    assert find_in_text("Cán bộ xã Hải Lạng đòi tiền").place.name == "Xã Hải Lạng"  # today's name wins
    assert find_in_text("Ở thành phố Hạ Long có quán karaoke mở nhạc to") is None  # a whole former city
    assert find_in_text("Ở xã Vô Ngại có người phá rừng") is None  # split between two communes
    assert find_in_text("Đường Trần Phú bị ngập") is None  # a street, not the old phường Trần Phú


def test_the_old_names_load_no_platform_and_no_geocoder():
    """Only the package's data is read: importing it would load aiohttp (a platform's) and geopy."""
    code = ("import json, sys; from bot.places import search; search('phường Hồng Hà'); "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "bot" in loaded and not loaded & {"aiohttp", "geopy", "shapely", "vietnamadminunits"}
