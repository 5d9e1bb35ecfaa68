import unicodedata

import pytest

from matcher.errors import EmptyTextError, InvalidEncodingError, TextTooLongError
from matcher.text import decode_utf8, fold, normalize_text, phrases, windows, words


def test_decomposed_vietnamese_becomes_the_precomposed_form():
    composed = "giáo viên tiểu học"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert normalize_text(decomposed) == composed


@pytest.mark.parametrize("blank", ["", "   ", "\n\t ", "\u200b"])
def test_empty_text_is_refused(blank):
    with pytest.raises(EmptyTextError, match="empty"):
        normalize_text(blank)


def test_text_over_the_limit_is_refused_with_the_limit_in_the_message():
    with pytest.raises(TextTooLongError, match="20,000"):
        normalize_text("a" * 20_001)
    assert len(normalize_text("a" * 20_000)) == 20_000


def test_white_space_and_control_characters_are_folded():
    assert normalize_text("  kế\u00a0toán \x07 viên\n\n") == "kế toán viên"
    assert normalize_text("dòng 1\n\n  dòng 2 ", keep_lines=True) == "dòng 1\ndòng 2"


def test_invalid_utf8_names_the_offset_and_line():
    with pytest.raises(InvalidEncodingError, match=r"offset 9, line 2"):
        decode_utf8(b"line one\n\xff\xfe", source="cv.txt")


def test_fold_keeps_diacritics():
    assert fold("Kế  TOÁN") == "kế toán"
    assert fold("bán") != fold("bàn")


def test_words_keep_programming_tokens():
    assert words("C++, C#, node.js và SQL-Server") == ["C++", "C#", "node.js", "và", "SQL-Server"]


def test_phrases_split_at_lists_in_both_languages():
    assert phrases("Excel, Word và PowerPoint; communication and teamwork") == [
        "Excel",
        "Word",
        "PowerPoint",
        "communication",
        "teamwork",
    ]


@pytest.mark.parametrize(
    ("length", "expected"),
    [(3, [(0, 3)]), (5, [(0, 5)]), (9, [(0, 5), (2, 7), (4, 9)]), (8, [(0, 5), (2, 7), (3, 8)])],
)
def test_windows_cover_every_word(length, expected):
    assert list(windows(list("x" * length), 5, 2)) == expected


def test_the_personal_fields_of_a_cv_header_are_not_what_a_profile_is_matched_on() -> None:
    from matcher.text import without_personal_fields

    vi = ("Họ và tên: Nguyễn Thị Lan. Giới tính: Nữ. Năm sinh: 1975. Dân tộc: Tày. Quê quán: "
          "Cao Bằng.\nNguyên kế toán xã 10 năm. Tên công ty: ABC.")  # fmt: skip
    assert without_personal_fields(vi) == "Nguyên kế toán xã 10 năm. Tên công ty: ABC."
    en = "Name: Tran Minh Tuan. Gender: Male. Year of birth: 1990.\nWelder, MIG, 6 years."
    assert without_personal_fields(en) == "Welder, MIG, 6 years."
    assert without_personal_fields("Ho va ten: Le Thu Ha; gioi tinh: nu\nGiáo viên") == "Giáo viên"
    # words in the text itself stay: only "label: value" fields go
    kept = "Kỹ năng: Excel. Tôi tên là Lan, quê ở Huế."
    assert without_personal_fields(kept) == kept
