"""Programme rules (the real data/programmes.yaml) and eligibility at the boundaries."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from matcher.errors import DataFormatError
from matcher.programmes.eligibility import check_eligibility, education_level
from matcher.programmes.rules import PROGRAMMES_FILE, load_programmes
from matcher.reference.languages import level_rank
from matcher.schemas import CandidateProfileIn, LanguageAbility
from matcher.settings import Settings

TODAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def catalog():
    return load_programmes(Settings().project_data_dir)


def test_the_rules_file_covers_the_programmes_and_cites_sources(catalog):
    schemes = {p.scheme for p in catalog.programmes}
    assert {"EPS", "KR-SEASONAL", "IM-JAPAN", "JP-SSW", "DE-CARE", "TW-CONTRACT"} <= schemes
    eps = [p for p in catalog.programmes if p.scheme == "EPS"]
    assert len(eps) >= 5  # one per sector
    for programme in catalog.programmes:
        assert programme.age.source in catalog.sources
        assert programme.costs.text_vi and programme.support.loans_vi
        for where, fact in programme.facts():
            assert fact.source in catalog.sources, (programme.id, where)
            if fact.verified:  # a verified fact says where and when it was checked
                assert fact.checked_url and fact.checked <= dt.date.today(), (programme.id, where)
    assert {"poor-district", "ethnic-minority", "demobilised"} <= set(catalog.groups)


def eps(catalog):
    return next(p for p in catalog.programmes if p.scheme == "EPS" and p.language is not None)


def ready(programme, **changes):
    rule = programme.language
    profile = {
        "text": "thợ hàn",
        "birth_year": TODAY.year - programme.age.min - 1,
        "health_declaration": "fit",
        "education": "tốt nghiệp THPT",
        "languages": [LanguageAbility(language="Korean", certificate=rule.test,
                                      level=rule.min_level)],
    }  # fmt: skip
    return CandidateProfileIn(**(profile | changes))


def check(programme, profile, catalog, lang="en"):
    return check_eligibility(programme, profile, lang=lang, today=TODAY)


def test_a_ready_candidate_is_eligible(catalog):
    programme = eps(catalog)
    result = check(programme, ready(programme), catalog)
    assert result.eligible and result.status == "eligible"
    assert not result.unmet and not result.to_check


@pytest.mark.parametrize("offset", [0, 1])
def test_age_boundaries(catalog, offset):
    programme = eps(catalog)
    at_max = ready(programme, birth_year=TODAY.year - programme.age.max)
    assert check(programme, at_max, catalog).eligible
    over = ready(programme, birth_year=TODAY.year - programme.age.max - 1 - offset)
    result = check(programme, over, catalog)
    assert not result.eligible
    [unmet] = result.unmet
    assert unmet.kind == "age" and unmet.route is None  # no route past the age limit
    at_min = ready(programme, birth_year=TODAY.year - programme.age.min)
    assert check(programme, at_min, catalog).eligible
    young = ready(programme, birth_year=TODAY.year - programme.age.min + 1 + offset)
    [unmet] = check(programme, young, catalog).unmet
    assert unmet.kind == "age" and str(TODAY.year + 1 + offset) in unmet.route


def test_language_just_below_and_at_the_threshold(catalog):
    programme = eps(catalog)
    rule = programme.language
    threshold = int(float(rule.min_level))
    at = ready(programme, languages=[LanguageAbility(language="Korean", certificate=rule.test,
                                                     level=str(threshold))])  # fmt: skip
    assert check(programme, at, catalog).eligible
    below = ready(programme, languages=[LanguageAbility(language="Korean", certificate=rule.test,
                                                        level=str(threshold - 1))])  # fmt: skip
    [unmet] = check(programme, below, catalog).unmet
    assert unmet.kind == "language" and str(threshold - 1) in unmet.message
    assert unmet.route  # the course to take


def test_a_missing_certificate_is_to_check_with_the_course_to_take(catalog):
    """No certificate declared rules nothing out: the test is still to take."""
    programme = eps(catalog)
    result = check(programme, ready(programme, languages=[]), catalog, lang="vi")
    assert result.status == "eligible_if" and not result.unmet and not result.eligible
    [to_check] = result.to_check
    assert to_check.kind == "language" and to_check.status == "to_check"
    assert programme.language.test in to_check.message and "chưa có" in to_check.message
    assert to_check.route == programme.language.preparation_vi


def test_undeclared_facts_are_to_check_declared_ones_rule_out(catalog):
    """The three states: what the profile does not say is to check (with how); what it says
    decides."""
    programme = eps(catalog)
    result = check(programme, ready(programme, birth_year=None, health_declaration=None,
                                    education=None), catalog)  # fmt: skip
    assert result.status == "eligible_if" and not result.unmet
    sets_education = programme.education.min != "none"
    assert {c.kind for c in result.to_check} == {"age", "health"} | (
        {"education"} if sets_education else set()
    )
    assert all(c.route for c in result.to_check)
    assert {m.kind for m in result.met} == {"language"} | (
        set() if sets_education else {"education"}
    )
    # declared: unfit, below the education minimum, or a disqualifier
    unfit = check(programme, ready(programme, health_declaration="not_fit"), catalog)
    assert unfit.status == "not_eligible" and [u.kind for u in unfit.unmet] == ["health"]
    if programme.education.min not in ("none", "lower-secondary"):
        low = check(programme, ready(programme, education="tốt nghiệp THCS"), catalog)
        assert low.status == "not_eligible" and [u.kind for u in low.unmet] == ["education"]
    if programme.disqualifiers:
        rule = programme.disqualifiers[0]
        result = check(programme, ready(programme, disqualifiers=[rule.id]), catalog)
        assert result.status == "not_eligible"
        assert [u.kind for u in result.unmet] == ["disqualifier"] and result.unmet[0].route is None


def test_the_issue_worker_is_eligible_if_the_medical_check_passes(catalog):
    """The reproduction: a 26-year-old CNC and welding worker with EPS-TOPIK 150 who says
    nothing about health. Before, every programme answered not eligible on health alone."""
    worker = CandidateProfileIn(
        text="Công nhân cơ khí 4 năm ở Bắc Ninh, vận hành máy CNC, hàn",
        birth_year=TODAY.year - 26, province="Bắc Ninh", willing_to_work_abroad=True,
        languages=[LanguageAbility(language="Korean", certificate="EPS-TOPIK", level="150")],
    )  # fmt: skip
    by_id = {p.id: check(p, worker, catalog, lang="vi") for p in catalog.programmes}
    manufacturing = by_id["eps-korea-manufacturing"]
    assert manufacturing.status == "eligible_if" and not manufacturing.unmet
    assert "health" in {c.kind for c in manufacturing.to_check}
    assert not any(
        r.status == "not_eligible" for r in by_id.values() if r.programme_id.startswith("eps")
    )
    # born 1978: the age limit rules EPS out, with nothing to do about it
    older = worker.model_copy(update={"birth_year": 1978})
    result = check(catalog.get("eps-korea-manufacturing"), older, catalog)
    assert result.status == "not_eligible" and [u.kind for u in result.unmet] == ["age"]
    assert "18" in result.unmet[0].message


def test_level_scales_and_education_parsing():
    assert level_rank("N4", "jlpt") > level_rank("N5", "jlpt")
    assert level_rank("B2", "cefr") > level_rank("B1", "cefr")
    assert level_rank("B1", "jlpt") is None and level_rank("abc", "score") is None
    assert education_level("Tốt nghiệp THPT năm 2010") == "upper-secondary"
    assert education_level("Cử nhân kế toán") == "bachelor"
    assert education_level("trung cap y") == "vocational"
    assert education_level("không") is None


def _broken(tmp_path, old: str, new: str):
    data = Settings().project_data_dir
    shutil.copytree(data, tmp_path / "data")
    path = tmp_path / "data" / PROGRAMMES_FILE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = text[: text.index(old)].count("\n") + 1
    return tmp_path / "data", line


def test_a_broken_rules_file_names_the_line(tmp_path, catalog):
    source = eps(catalog).age.source
    folder, line = _broken(tmp_path, f"source: {source}", "source: nowhere-documented")
    with pytest.raises(
        DataFormatError, match=rf"{PROGRAMMES_FILE}:{line}: source 'nowhere-documented'"
    ):
        load_programmes(folder)


def test_invalid_yaml_and_wrong_values_name_the_line(tmp_path, catalog):
    folder, line = _broken(tmp_path / "a", "programmes:", "programmes: [")
    with pytest.raises(DataFormatError, match=rf"{PROGRAMMES_FILE}:\d+: not valid YAML"):
        load_programmes(folder)
    programme = eps(catalog)
    old = f"min: {programme.age.min}"
    folder, line = _broken(tmp_path / "b", old, "min: eighteen")
    with pytest.raises(DataFormatError, match=rf"{PROGRAMMES_FILE}:{line}: .*age.min"):
        load_programmes(folder)


def test_alternative_certificates_are_named_and_accepted(catalog):
    programme = next(p for p in catalog.programmes if p.language and p.language.alternatives)
    rule, other = programme.language, programme.language.alternatives[0]
    base = ready(programme, birth_year=TODAY.year - programme.age.min - 1, education="cử nhân")
    missing = check(programme, base.model_copy(update={"languages": []}), catalog)
    to_take = next(c for c in missing.to_check if c.kind == "language")  # none declared
    assert rule.test in to_take.message and other.test in to_take.message
    with_other = base.model_copy(
        update={
            "languages": [
                LanguageAbility(language="German", certificate=other.test, level=other.min_level)
            ]
        }
    )
    accepted = check(programme, with_other, catalog)
    assert [m for m in accepted.met if m.kind == "language"] and not accepted.unmet


def test_a_card_says_which_facts_were_checked_and_how_long_costs_take_to_recover(catalog):
    from matcher.programmes.cards import programme_card
    from matcher.programmes.rules import Costs, Pay

    for programme in catalog.programmes:
        for lang in ("vi", "en"):
            card = programme_card(catalog, programme, lang)
            assert card.costs.verified == programme.costs.verified
            assert card.support.verified == programme.support.verified
            assert (card.pay is None) == (programme.pay is None)
            if card.costs.verified:
                assert card.costs.url == programme.costs.checked_url
    base = eps(catalog)
    checked = {"verified": True, "checked": dt.date(2026, 12, 2), "checked_url": "https://x.vn/a"}
    pay = Pay(text_vi="30–40 triệu", text_en="30–40 million", vnd_month_min=30_000_000,
              vnd_month_max=40_000_000, source=base.costs.source, **checked)  # fmt: skip
    costs = Costs(text_vi="c", text_en="c", vnd_min=20_000_000, vnd_max=60_000_000,
                  source=base.costs.source)  # fmt: skip
    card = programme_card(catalog, base.model_copy(update={"pay": pay, "costs": costs}), "vi")
    assert card.recovery is not None
    assert card.recovery.text.startswith("Khoảng 0.5–2 tháng lương")
    assert card.recovery.verified is False  # the costs were not checked, so neither is this
    checked_costs = costs.model_copy(update=checked)
    card = programme_card(catalog, base.model_copy(update={"pay": pay, "costs": checked_costs}),
                          "en")  # fmt: skip
    assert card.recovery.verified and card.recovery.text.startswith("About 0.5–2 months")


def test_a_verified_fact_must_say_where_and_when(catalog):
    from pydantic import ValidationError

    from matcher.programmes.rules import Pay

    with pytest.raises(ValidationError, match="checked_url"):
        Pay(text_vi="x", text_en="x", source="eps-korea", verified=True)
