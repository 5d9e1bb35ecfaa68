"""Skill extraction from CVs and postings, with the real model and real ESCO."""

import pytest

from matcher.nlp.skills import candidate_spans

pytestmark = pytest.mark.slow

CV_VI = (
    "Kế toán 8 năm tại UBND xã. Lập báo cáo tài chính, sử dụng Excel thành thạo, "
    "soạn thảo văn bản hành chính và giao tiếp với người dân."
)
CV_EN = "Experienced welder: MIG and TIG welding, reading blueprints. Forklift licence."


def labels(matches):
    return [m.label for m in matches]


def test_vietnamese_cv_yields_its_skills_with_evidence(service):
    [matches] = service.extract_skills([CV_VI], k=15)
    found = labels(matches)
    assert "prepare financial statements" in found
    assert "use spreadsheets software" in found
    for match in matches:
        start, end = match.span
        assert match.evidence and match.evidence in CV_VI
        assert CV_VI[start:end] == match.evidence


def test_english_posting_yields_its_skills(service):
    [matches] = service.extract_skills([CV_EN], k=15)
    found = labels(matches)
    assert "operate forklift" in found
    assert any("weld" in label for label in found)
    assert any("blueprint" in label for label in found)


def test_skills_come_from_spans_not_the_whole_text(service):
    [matches] = service.extract_skills([CV_VI], k=15)
    assert all(len(m.evidence) < len(CV_VI) / 2 for m in matches)


def test_candidate_spans_cover_phrases_and_windows():
    spans = [
        s.text for s in candidate_spans("Excel, Word và lập báo cáo tài chính hằng tháng cho xã")
    ]
    assert "Excel" in spans and "Word" in spans
    assert any(span.startswith("lập báo cáo") for span in spans)
