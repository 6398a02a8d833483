"""Finding a ward or commune of Quảng Ninh (post-2025, no districts) from what a citizen types."""

from __future__ import annotations

import pytest

from bot.places import all_places, by_code, find_in_text, search


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
    assert search(typed)[0].name == expected


def test_search_tolerates_typos_and_offers_several():
    assert "Phường Cẩm Phả" in [p.name for p in search("Cam Pa")]
    assert len(search("Móng Cái")) >= 3


def test_nothing_close_gives_nothing():
    assert search("Paris") == [] and search("   ") == []


def test_by_code_round_trips_and_rejects_unknown():
    place = search("Cô Tô")[0]
    assert by_code(place.code) == place and by_code("999999") is None


def test_a_place_named_in_a_story_is_found():
    assert find_in_text("Ở xã Đầm Hà có người khai thác cát trái phép").name == "Xã Đầm Hà"
    assert find_in_text("Không nói địa điểm nào cả") is None
