"""Text normalisation and splitting, Vietnamese-aware.

All text entering the library passes through :func:`normalize_text`: Unicode NFC (Vietnamese
typed with combining marks becomes the precomposed form, so both give the same embedding),
control characters dropped, runs of white space folded. Diacritics are kept: in Vietnamese they
carry meaning ("bán" sells, "bàn" is a table).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from matcher.errors import EmptyTextError, InvalidEncodingError, TextTooLongError

DEFAULT_MAX_CHARS = 20_000

#: Control and invisible format characters (zero-width spaces and joiners, direction marks,
#: word joiners, the BOM, soft hyphens): they carry no meaning for the model.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u180e\u200b-\u200f\u2028-\u202e"
    r"\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACE = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def normalize_text(
    text: str, *, max_chars: int = DEFAULT_MAX_CHARS, keep_lines: bool = False
) -> str:
    """Return ``text`` in the one form the library works with.

    Args:
        text: any string.
        max_chars: longest accepted result, in characters.
        keep_lines: keep line breaks (one per line) instead of folding them into spaces; skill
            extraction uses them as phrase boundaries.

    Raises:
        EmptyTextError: nothing but white space is left.
        TextTooLongError: the text is longer than ``max_chars``.
    """
    if not isinstance(text, str):
        raise InvalidEncodingError(f"expected text, got {type(text).__name__}")
    if _SURROGATE.search(text):
        raise InvalidEncodingError(
            "the text contains an unpaired UTF-16 surrogate (e.g. \\ud800), which is not a "
            "character; send valid Unicode"
        )
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SPACE.sub(" ", text)
    text = _BLANK_LINES.sub("\n", text).strip() if keep_lines else " ".join(text.split())
    if not text:
        raise EmptyTextError("the text is empty: give a job title, a skill or a short description")
    if len(text) > max_chars:
        raise TextTooLongError(
            f"the text has {len(text):,} characters; the limit is {max_chars:,}. "
            "Shorten it or split it into several requests."
        )
    return text


def visible(text: str) -> str:
    """What :func:`normalize_text` would keep of ``text``, without its checks: ``""`` when
    the text is only white space, control or zero-width characters (nothing to embed)."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    return " ".join(_SPACE.sub(" ", text).split())


def decode_utf8(data: bytes, *, source: str = "input") -> str:
    """Decode bytes as UTF-8, with an error that names where the bad bytes are."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InvalidEncodingError(
            f"{source} is not valid UTF-8 (bad byte at offset {error.start}, line {line}); "
            "save it as UTF-8 and try again"
        ) from None


def fold(text: str) -> str:
    """Case-fold for exact label matching (diacritics kept), e.g. ``"Kế Toán"`` → ``"kế toán"``."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def plain(text: str) -> str:
    """:func:`fold` without diacritics, for input typed without them: ``"Giáo viên"`` →
    ``"giao vien"`` (``đ`` → ``d``)."""
    decomposed = unicodedata.normalize("NFD", fold(text).replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


#: Personal fields a CV header states ("Họ và tên: …. Giới tính: Nữ. Năm sinh: 1990."): who
#: the person is, not what they can do. Written with or without diacritics.
PERSONAL_LABELS = (
    "họ và tên", "họ tên", "tên", "giới tính", "năm sinh", "ngày sinh", "ngày tháng năm sinh",
    "sinh ngày", "dân tộc", "tôn giáo", "quê quán", "nơi sinh", "tình trạng hôn nhân",
    "hôn nhân", "số điện thoại", "điện thoại", "sđt", "email", "e-mail", "địa chỉ", "cccd",
    "cmnd", "full name", "name", "gender", "sex", "year of birth", "date of birth", "born",
    "dob", "ethnicity", "religion", "home province", "hometown", "place of birth",
    "marital status", "phone", "mobile", "address",
)  # fmt: skip
_LABELS = sorted({re.escape(x) for label in PERSONAL_LABELS for x in (label, plain(label))},
                 key=len, reverse=True)  # fmt: skip
_PERSONAL = re.compile(
    r"(?:^|(?<=[\n.;|•·]))[ \t]*(?:"
    + "|".join(_LABELS)
    + r")[ \t]*[:：][^\n;|]*?(?:\.(?=\s|$)|[;|]|(?=\n)|$)",
    re.IGNORECASE,
)


def without_personal_fields(text: str) -> str:
    """``text`` without the personal fields of a CV header (name, gender, birth, ethnicity,
    religion, home town, marital status, contacts): what a profile is matched on must not
    read them (the fairness audit's counterfactuals)."""
    return " ".join(_PERSONAL.sub(" ", text).split(" ")).strip()


WORD = re.compile(r"[\w][\w+#.\-/']*[\w+#]|[\w]")


def words(text: str) -> list[str]:
    """Split into words, keeping tokens such as ``c++``, ``c#``, ``node.js``, ``sql-server``."""
    return WORD.findall(text)


# Where a phrase ends: punctuation, bullets, and the words that join list items in CVs.
PHRASE_BREAK = re.compile(
    r"[\n;:•·●▪◦\u2013\u2014|()\[\]{}!?]|(?<!\d)[.,](?!\d)|\s-\s|"
    r"\b(?:and|or|with|including|as well as|và|hoặc|cùng|cũng như|bao gồm|với)\b",
    re.IGNORECASE,
)


def phrases(text: str) -> list[str]:
    """Split text into short phrases: the spans skill labels are matched against."""
    parts = (" ".join(part.split()) for part in PHRASE_BREAK.split(text))
    return [part for part in parts if part and any(ch.isalnum() for ch in part)]


def windows(tokens: list[str], size: int, stride: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` word windows of ``size`` words covering ``tokens`` with ``stride``."""
    if len(tokens) <= size:
        yield 0, len(tokens)
        return
    start = 0
    while True:
        yield start, start + size
        if start + size >= len(tokens):
            return
        start = min(start + stride, len(tokens) - size)
