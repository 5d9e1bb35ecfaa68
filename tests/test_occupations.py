"""Title → ESCO occupation with the real model, the real index and real ESCO."""

import pytest

pytestmark = pytest.mark.slow

PRIMARY_TEACHER = "http://data.europa.eu/esco/occupation/03d79393-7b30-4159-945b-01963eddd302"
ACCOUNTANT = "http://data.europa.eu/esco/occupation/eda0d957-3c3c-4139-b89a-a18bc9e18897"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("giáo viên tiểu học", PRIMARY_TEACHER),
        ("primary school teacher", PRIMARY_TEACHER),
        ("Giáo viên cấp 1", PRIMARY_TEACHER),
        ("kế toán viên", ACCOUNTANT),
        ("accountant", ACCOUNTANT),
        ("nhân viên kế toán tổng hợp", ACCOUNTANT),
    ],
)
def test_vietnamese_and_english_titles_find_the_occupation_in_the_top_3(service, title, expected):
    [matches] = service.match_occupations([title], k=3)
    assert expected in [m.uri for m in matches]


def test_results_are_ranked_and_explain_which_label_matched(service):
    [matches] = service.match_occupations(["điều dưỡng viên bệnh viện"], k=5)
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True) and len(matches) == 5
    assert any("nurse" in m.label for m in matches[:3])
    assert all(m.matched_label for m in matches)


def test_decomposed_input_gives_the_same_ranking(service):
    import unicodedata

    title = "kế toán viên"
    composed = service.match_occupations([title], k=5)[0]
    decomposed = service.match_occupations([unicodedata.normalize("NFD", title)], k=5)[0]
    assert [m.uri for m in composed] == [m.uri for m in decomposed]
