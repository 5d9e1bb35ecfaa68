"""Languages and certificate scales: one place for the language names people type (Vietnamese
or English) and for the levels of CEFR, JLPT and scored tests (TOPIK, EPS-TOPIK, IELTS)."""

from __future__ import annotations

import re

from matcher.text import fold

LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "ko": ("korean", "tiếng hàn", "hàn", "hàn quốc", "ko", "kor"),
    "ja": ("japanese", "tiếng nhật", "nhật", "ja", "jp", "jpn"),
    "de": ("german", "tiếng đức", "đức", "de", "deu", "ger"),
    "zh": ("chinese", "mandarin", "tiếng trung", "tiếng hoa", "trung", "hoa", "zh", "cn"),
    "en": ("english", "tiếng anh", "anh", "en", "eng"),
    "vi": ("vietnamese", "tiếng việt", "việt", "vi", "vie"),
    "fr": ("french", "tiếng pháp", "pháp", "fr"),
}
_CODE_OF = {name: code for code, names in LANGUAGE_NAMES.items() for name in names}
#: The CEFR levels, lowest first.
CEFR = ("A1", "A2", "B1", "B2", "C1", "C2")
_JLPT = re.compile(r"N([1-5])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def language_code(name: str) -> str:
    """An ISO 639-1 code for a language name in Vietnamese or English (``"Tiếng Hàn"`` → ``ko``);
    the folded name itself when it is not known."""
    folded = fold(name)
    return _CODE_OF.get(folded, folded)


def level_rank(level: str | None, scale: str | None = None) -> float | None:
    """An ordinal for a certificate level: CEFR A1..C2 → 1..6, JLPT N5..N1 → 1..5, scores as
    numbers (TOPIK 1–6, EPS-TOPIK scores, IELTS bands). With ``scale`` (``cefr``, ``jlpt`` or
    ``score``) only that scale is read. ``None`` when unreadable."""
    if not level:
        return None
    text = level.strip().upper()
    if scale in (None, "cefr") and text in CEFR:
        return float(CEFR.index(text) + 1)
    jlpt = _JLPT.fullmatch(text)
    if scale in (None, "jlpt") and jlpt:
        return float(6 - int(jlpt.group(1)))
    if scale in (None, "score") and _NUMBER.fullmatch(text):
        return float(text.replace(",", "."))
    return None


#: The highest level on the scales an employer can filter by (CEFR C2, TOPIK 6): a higher
#: number is a test score (EPS-TOPIK out of 200), not a level.
MAX_LEVEL = 6.0


def ordinal_level(level: str | None) -> float | None:
    """A level on the one ordinal scale candidate filters compare (CEFR and TOPIK 1–6, JLPT
    1–5); ``None`` for a test score or an unreadable level."""
    rank = level_rank(level)
    return rank if rank is not None and rank <= MAX_LEVEL else None
