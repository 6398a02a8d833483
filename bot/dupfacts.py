"""The facts of a report that tell one incident from another: amounts, plot and house numbers, vehicle
plates, dates, people's names and streets.

Two reports of one incident share these facts whatever their wording; template-like reports about
different plots or streets share the wording but not these. Extraction works with and without diacritics
("30 triệu", "30tr", "30 trieu" are one amount; "14C-123.45" and "14c 12345" one plate).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

# Common Vietnamese family names (folded): a capitalised or "van/thi" sequence starting with one is a name.
SURNAMES = frozenset(
    "nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh dao doan trinh truong "
    "lam luong luu mai ta chu ha cao quach vuong lai kieu mac nong loc thai tang la hua vi dong trieu "
    "giap khuc lo tieu au lu tong thach diep quan mach ong van".split()
)
MIDDLE = frozenset("van thi duc minh quoc dinh xuan cong thanh huu ngoc dang kim thu hong".split())
# Family names that are also everyday words ("triệu thì", "đường thì"): trusted only when capitalised.
AMBIGUOUS = frozenset("trieu duong do ho la lo mai ha vi dong tong van ong cao lam lu thai quan dang".split())
TITLES = frozenset("ong ba anh chi em co thay chu bac".split())

_UNITS = {
    "ty": 1_000_000_000,
    "ti": 1_000_000_000,
    "trieu": 1_000_000,
    "tr": 1_000_000,
    "nghin": 1_000,
    "ngan": 1_000,
    "k": 1_000,
    "dong": 1,
    "d": 1,
    "vnd": 1,
}
_AMOUNT = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d+)*)\s*(ty|ti|trieu|tr|nghin|ngan|k|dong|vnd|d)(\d)?(?![a-z])"
)
_PLATE = re.compile(r"(?<![\w])(\d{2})\s?([a-z]{1,2}\d?)[\s.-]?(\d{3})[.]?(\d{1,2})(?![\w])")
_DATE = re.compile(r"(?<![\w./-])(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2,4}))?(?![\w/-])")
_LABELLED = re.compile(
    r"(?<!quoc )\b(thua(?: dat)?|lo(?: dat)?|to ban do|so nha|so|to|khu|ki ot|kiot|phong|lop|km)"
    r"\s+(?:so\s+)?(\d+[a-z]?)\b"
)
# A label, up to four lower-case words, then a capitalised name: "quán karaoke Hoàng Gia", "thôn Pắc Pò".
_NAMED = re.compile(
    r"\b(?i:(đường|phố|thôn|bản|xóm|công ty|nhà máy|ngân hàng|bệnh viện|trường|quán|cây xăng|khu đô thị|"
    r"trạm y tế|chợ))\s+(?:[a-zà-ỹđ]+\s+){0,4}?((?:[A-ZĐ]\w*|\d+[A-Za-z]\w*)(?:\s+[A-ZĐ0-9]\w*){0,4})",
    re.UNICODE,
)
_NAME_KINDS = {"duong": "street", "pho": "street", "thon": "hamlet", "ban": "hamlet", "xom": "hamlet"}
# Labels whose presence without the name in another report says it is about another place or firm
# (not "đường", "chợ", "bản", "trường", "quán": their folded forms are also everyday words).
DISTINCT_LABELS = frozenset(
    "cong ty|nha may|ngan hang|thon|xom|cay xang|khu do thi|tram y te|benh vien".split("|")
)
_NOT_NAME = frozenset("tnhh cp ubnd thcs thpt".split())
_CAPITALISED = re.compile(r"(?:[A-ZĐ][^\W\d_]*)(?:\s+[A-ZĐ][^\W\d_]*)+", re.UNICODE)
OLD_CITIES = ("ha long", "cam pha", "uong bi", "mong cai", "dong trieu", "quang yen", "van don", "co to",
              "tien yen", "dam ha", "hai ha", "binh lieu", "ba che", "hoanh bo", "quang ninh")


@cache
def known_places() -> tuple[str, ...]:
    """Folded names of the province's wards and former cities and districts, longest first."""
    from bot.places import all_places

    return tuple(sorted({p.bare for p in all_places()} | set(OLD_CITIES), key=len, reverse=True))


_NUMBER = re.compile(r"\d+")
_INNER_CAPITAL = re.compile(r"(?<=[\w,;:]\s)[A-ZĐ][^\W\d_]*", re.UNICODE)  # not the first word of a sentence

# Function words and the vocabulary every report shares; they say nothing about which incident it is.
STOPWORDS = frozenset(
    """
    toi chung ta minh ho no ong ba anh chi em co thay cac nhung mot hai ba la va voi cua cho de thi ma
    nhung neu nen vi sao khi da dang se bi duoc khong chua co con van cung rat qua nhieu it moi hon
    nay do kia day ay o tai tren duoi trong ngoai ra vao len xuong den tu sau truoc gan xa theo ve
    nguoi nha gia dinh viec chuyen lan ngay thang nam gio buoi sang chieu toi dem hom nay
    de nghi xin kinh gui phan anh to cao khieu nai tin bao kien nghi bao cao co quan chuc nang
    kiem tra xu ly lam ro giai quyet vu viec noi dung tinh trang hien nay thuc te
    phuong xa thon khu to huyen thanh pho tinh cu moi
    biet thay nghe noi bao hoi lam di ai gi nao the nhu vay roi luon hay phai can
    """.split()
)


@cache
def _place_pattern() -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in known_places()) + r")\b")


def content_words(words: tuple[str, ...] | list[str]) -> list[str]:
    """The words that say what happened: no function words, numbers or place names (weighed apart)."""
    text = _place_pattern().sub(" ", " ".join(words))
    return [w for w in text.split() if w not in STOPWORDS and not w.isdigit() and len(w) > 1]



_PLOT_LABELS = {"thua": "plot", "thua dat": "plot", "lo": "plot", "lo dat": "plot", "to ban do": "sheet"}


def _strip_table() -> dict[int, str | None]:
    """Each accented Latin letter to its bare letter (đ -> d), combining marks to nothing."""
    table: dict[int, str | None] = {cp: None for cp in range(0x300, 0x370)}
    for cp in range(0xC0, 0x1F00):
        ch = chr(cp)
        bare = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")
        if bare != ch and bare:
            table[cp] = bare
    table[ord("đ")], table[ord("Đ")] = "d", "D"
    return table


_STRIP = _strip_table()
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def plain(text: str) -> str:
    """Lower-case without diacritics (đ -> d) but with punctuation kept, for numbers like 1.200.000."""
    return unicodedata.normalize("NFC", text).lower().translate(_STRIP)


def quick_fold(text: str) -> str:
    """bot.textnorm.fold by a translation table: the same result, several times faster on long texts."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", plain(text))).strip()


@dataclass(frozen=True)
class Facts:
    amounts: frozenset[int] = frozenset()
    plots: frozenset[str] = frozenset()  # "plot:215", "sheet:12"
    addresses: frozenset[str] = frozenset()  # "so:27", "to:4", "khu:2"
    plates: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()  # "d/m"
    people: frozenset[str] = frozenset()  # folded full names
    names: frozenset[str] = frozenset()  # folded label and name: "duong:le loi", "thon:pac po"
    numbers: frozenset[str] = frozenset()  # every other number
    words: tuple[str, ...] = field(default=(), compare=False)  # folded words of the text
    content: tuple[str, ...] = field(default=(), compare=False)  # the words that say what happened
    capitals: frozenset[str] = field(default=frozenset(), compare=False)  # capitalised inside a sentence

    def terms(self) -> set[str]:
        """Index terms: every fact, typed, so that a lookup can find reports sharing one."""
        found = {f"a:{v}" for v in self.amounts} | {f"p:{v}" for v in self.plots | self.addresses}
        found |= {f"v:{v}" for v in self.plates} | {f"n:{v}" for v in self.people}
        found |= {f"n:{v.split(':', 1)[1]}" for v in self.names}
        return found


def _number(digits: str) -> float | None:
    """'1.200.000' -> 1200000, '4,5' -> 4.5, '3.2' -> 3.2."""
    parts = re.split(r"[.,]", digits)
    if len(parts) > 1 and all(len(p) == 3 for p in parts[1:]):
        return float("".join(parts))
    if len(parts) == 2:
        return float(f"{parts[0]}.{parts[1]}")
    if len(parts) == 1:
        return float(parts[0])
    return None


def amounts(text: str) -> set[int]:
    found: set[int] = set()
    for digits, unit, tail in _AMOUNT.findall(text):
        value = _number(digits)
        if value is None:
            continue
        scale = _UNITS[unit]
        if tail and scale >= 1_000_000:  # "1tr2" = 1.2 triệu
            value += int(tail) / 10
        if scale == 1 and value < 1000:  # "10 d" is not an amount of money worth comparing
            continue
        found.add(round(value * scale))
    return found


def _people(text: str, folded: str) -> set[str]:
    found: set[str] = set()
    for match in _CAPITALISED.findall(text):
        words = quick_fold(match).split()
        while words and words[0] in TITLES:
            words = words[1:]
        if len(words) >= 3 and words[0] in SURNAMES:
            found.add(" ".join(words[:4]))
    tokens = folded.split()
    for i in range(len(tokens) - 2):
        first, middle, last = tokens[i : i + 3]
        if first in SURNAMES and first not in AMBIGUOUS and middle in MIDDLE and last not in SURNAMES:
            found.add(" ".join(tokens[i : i + 3]))
    return found


def extract(text: str) -> Facts:
    """The comparable facts of one report."""
    low = plain(text)
    folded = quick_fold(text)
    plates = {f"{a}{b}{c}{d}" for a, b, c, d in _PLATE.findall(low)}
    without_plates = _PLATE.sub(" ", low)
    dates = set()
    for d, m, _y in _DATE.findall(without_plates):
        if 1 <= int(d) <= 31 and 1 <= int(m) <= 12:
            dates.add(f"{int(d)}/{int(m)}")
    money = amounts(without_plates)
    plots: set[str] = set()
    addresses: set[str] = set()
    for label, value in _LABELLED.findall(folded):
        if label in _PLOT_LABELS:
            plots.add(f"{_PLOT_LABELS[label]}:{value}")
        else:
            addresses.add(f"{label.split()[0]}:{value}")
    named = set()
    for label, match in _NAMED.findall(text):
        if not (match[:1].isupper() or match[:1].isdigit()):
            continue
        words = [w for w in quick_fold(match).split() if w not in _NOT_NAME]
        if len(words) >= 3 and words[0] in SURNAMES and words[1] in MIDDLE:
            continue  # "trưởng thôn Hoàng Văn Sinh": a person, not a hamlet
        cut = next(
            (i for i in range(1, len(words) - 1) if words[i] in SURNAMES and words[i + 1] in MIDDLE),
            len(words),
        )
        name = " ".join(words[:min(cut, 3)])  # "thôn Pắc Pò Hoàng Văn Sinh": the hamlet, then a person
        if name and name not in known_places():
            named.add(f"{quick_fold(label)}:{name}")
    numbers = set(_NUMBER.findall(folded))
    return Facts(
        amounts=frozenset(money),
        plots=frozenset(plots),
        addresses=frozenset(addresses),
        plates=frozenset(plates),
        dates=frozenset(dates),
        people=frozenset(_people(text, folded)),
        names=frozenset(named),
        numbers=frozenset(numbers),
        words=tuple(folded.split()),
        content=tuple(content_words(folded.split())),
        capitals=frozenset(quick_fold(w) for w in _INNER_CAPITAL.findall(text)),
    )
