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


FILLER_VI = "Tôi đã làm việc nhiều năm ở địa phương, tham gia các hoạt động của cơ quan. "


def test_skills_late_in_a_long_cv_are_found_like_early_ones(service):
    """The text is read in chunks of the model's length: a skill named after 600 words of
    other text is found as it is at the start, and its evidence points at the right place."""
    tail = "Vận hành máy CNC, đọc bản vẽ kỹ thuật."
    long_cv = FILLER_VI * 40 + tail
    assert len(service.runtime.parts.models.encoder.model.tokenizer(long_cv)["input_ids"]) > 600
    [early] = service.extract_skills([tail], k=10)
    [late] = service.extract_skills([long_cv], k=30)
    wanted = {m.uri for m in early if m.method == "semantic"}
    assert wanted, "the short text itself yields semantic matches"
    found = {m.uri: m for m in late}
    assert len(wanted & set(found)) >= len(wanted) / 2
    for uri in wanted & set(found):
        start, end = found[uri].span
        assert start >= len(FILLER_VI) * 40 - 1
        assert long_cv[start:end] == found[uri].evidence


def test_chunks_never_split_a_span_and_each_span_pools_its_own_tokens(service):
    from matcher.nlp import contextual

    encoder = service.runtime.parts.models.encoder
    tokenizer = encoder.model.tokenizer
    text = FILLER_VI * 12 + "Sử dụng Excel, lập báo cáo tài chính hằng tháng."
    spans = [(s.start, s.end) for s in candidate_spans(text)]
    plan = contextual.plan(tokenizer, text, spans, encoder.prompts["query"], 64)
    assert len(plan.chunks) >= 4 and all(len(chunk) <= 64 for chunk in plan.chunks)
    for (start, end), place in zip(spans, plan.where):
        chunk, first, stop = place
        decoded = tokenizer.decode(plan.chunks[chunk][first:stop]).strip()
        assert decoded == text[start:end].strip()


def test_int8_and_fp32_span_vectors_agree(service):
    encoder = service.runtime.parts.models.encoder
    text = "Kế toán tổng hợp, lập báo cáo thuế, sử dụng phần mềm MISA."
    spans = [[(s.start, s.end) for s in candidate_spans(text)]]
    [precise] = encoder.encode_spans([text], spans, precise=True)
    [fast] = encoder.encode_spans([text], spans)
    assert precise.shape == fast.shape == (len(spans[0]), encoder.dimension)
    assert (precise * fast).sum(axis=1).min() > 0.95
