"""Folding: Vietnamese with and without diacritics matches, including đ/Đ."""

from bot.textnorm import fold


def test_diacritics_and_d_bar_fold() -> None:
    assert fold("Đòi PHONG BÌ, bôi trơn!") == "doi phong bi boi tron"
    assert fold("Ủy ban Kiểm tra") == fold("uy ban kiem tra")
    assert fold("đất đai") == "dat dai"


def test_whitespace_and_punctuation_collapse() -> None:
    assert fold("  sổ\n\nđỏ...  ") == "so do"
    assert fold("") == ""
