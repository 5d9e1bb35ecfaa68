"""Eligibility: a profile checked against one programme's cited rules, each requirement with
how to meet it, in Vietnamese or English."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from matcher.programmes.rules import EDUCATION_ORDER, Cited, EducationRule, LanguageRule, Programme
from matcher.reference.languages import level_rank
from matcher.schemas import (
    CandidateProfileIn,
    Eligibility,
    EligibilityStatus,
    Lang,
    LanguageAbility,
    Requirement,
)


def _cited(rule: Cited) -> dict[str, Any]:
    """What a requirement says of its rule's source: which one, and whether it was checked."""
    return {"source": rule.source, "verified": rule.verified, "checked": rule.checked}


def _same_test(name: str | None, test: str) -> bool:
    def norm(value: str) -> str:
        return re.sub(r"[^a-z0-9]", "", value.casefold())

    return bool(name) and norm(name or "") == norm(test)


def education_level(text: str | None) -> str | None:
    """The highest level named in free text (Vietnamese or English), or ``None``."""
    if not text:
        return None
    folded = text.casefold()
    patterns = {
        "bachelor": ("đại học", "dai hoc", "cử nhân", "cu nhan", "kỹ sư", "ky su", "bachelor",
                     "university", "thạc sĩ", "thac si", "master", "tiến sĩ", "phd"),
        "college": ("cao đẳng", "cao dang", "college"),
        "vocational": ("trung cấp", "trung cap", "vocational", "sơ cấp nghề", "so cap nghe"),
        "upper-secondary": ("thpt", "12/12", "trung học phổ thông", "trung hoc pho thong",
                            "upper.secondary", "high school", "lớp 12", "lop 12"),
        "lower-secondary": ("thcs", "9/12", "trung học cơ sở", "trung hoc co so",
                            "lower.secondary", "lớp 9", "lop 9"),
    }  # fmt: skip
    for level, words in patterns.items():
        if re.search("|".join(words), folded):
            return level
    return None


_TEXT = {
    "vi": {
        "age_missing": "Cần độ tuổi {lo}–{hi}; hồ sơ chưa có năm sinh",
        "age_route_missing": "Bổ sung năm sinh vào hồ sơ",
        "age_ok": "Độ tuổi {age} nằm trong khoảng {lo}–{hi}",
        "age_young": "Cần từ {lo} tuổi; bạn {age} tuổi",
        "age_young_route": "Có thể đăng ký khi đủ {lo} tuổi (năm {year})",
        "age_old": "Giới hạn tuổi {lo}–{hi}; bạn {age} tuổi",
        "lang_missing": "Cần {test} ≥ {level}; bạn chưa có chứng chỉ này",
        "lang_missing_any": "Cần một trong các chứng chỉ: {tests}; bạn chưa có chứng chỉ nào",
        "lang_low": "Cần {test} ≥ {level}; bạn có {has}",
        "lang_ok": "Đạt yêu cầu ngoại ngữ: {test} {has} (cần ≥ {level})",
        "edu_missing": "Cần trình độ học vấn tối thiểu: {level}; hồ sơ chưa ghi trình độ",
        "edu_route_missing": "Ghi rõ trình độ học vấn (ví dụ: tốt nghiệp THPT)",
        "edu_low": "Cần trình độ học vấn tối thiểu: {level}; bạn có: {has}",
        "edu_ok": "Đạt yêu cầu học vấn ({has})",
        "edu_route": "Học bổ túc/liên thông để đạt trình độ {level}",
        "health_missing": "Khám sức khỏe: {text}",
        "health_route": "Khám sức khỏe tại cơ sở y tế đủ điều kiện trước khi đăng ký",
        "health_bad": "Chưa đủ điều kiện sức khỏe ({text})",
        "health_ok": "Đã tự khai đủ sức khỏe (chương trình vẫn khám sức khỏe khi tuyển chọn)",
        "disqualified": "Không đủ điều kiện: {text}",
        "gender_male": "Các đợt tuyển gần đây chỉ nhận nam",
        "gender_female": "Các đợt tuyển gần đây chỉ nhận nữ",
        "gender_route": "Hỏi Trung tâm Lao động ngoài nước về đợt tuyển sắp tới",
    },
    "en": {
        "age_missing": "Age {lo}–{hi} required; the profile has no birth year",
        "age_route_missing": "Add your birth year to the profile",
        "age_ok": "Age {age} is within {lo}–{hi}",
        "age_young": "Minimum age {lo}; you are {age}",
        "age_young_route": "You can apply from age {lo} (in {year})",
        "age_old": "Age limit {lo}–{hi}; you are {age}",
        "lang_missing": "{test} ≥ {level} required; you have no such certificate",
        "lang_missing_any": "One of {tests} required; you have none of these certificates",
        "lang_low": "{test} ≥ {level} required; you have {has}",
        "lang_ok": "Language requirement met: {test} {has} (≥ {level} required)",
        "edu_missing": "Minimum education: {level}; the profile does not say",
        "edu_route_missing": "State your education (e.g. upper-secondary diploma)",
        "edu_low": "Minimum education: {level}; you have: {has}",
        "edu_ok": "Education requirement met ({has})",
        "edu_route": "Complementary or bridging education up to {level}",
        "health_missing": "Medical examination: {text}",
        "health_route": "Have a medical check at an approved clinic before you apply",
        "health_bad": "Health requirement not met ({text})",
        "health_ok": "Declared fit (the programme still holds its medical examination)",
        "disqualified": "Not eligible: {text}",
        "gender_male": "Recent intakes recruited men only",
        "gender_female": "Recent intakes recruited women only",
        "gender_route": "Ask the Overseas Labour Centre about the next intake",
    },
}


def check_eligibility(
    programme: Programme,
    profile: CandidateProfileIn,
    *,
    lang: Lang = "vi",
    today: dt.date | None = None,
) -> Eligibility:
    """Every hard requirement of ``programme`` for ``profile``, in three states: met; not met
    (a fact the person declared rules it out, such as their birth year or a lower test score);
    to check (not declared, or not something a profile can show: the medical examination).
    Only a declared fact makes a programme ``not_eligible``; with something left to check it
    is ``eligible_if``."""
    text = _TEXT[lang]
    checks = [_age(programme, profile.birth_year, text, (today or dt.date.today()).year)]
    if programme.language is not None:
        checks.append(_language(programme.language, profile.languages, text, lang))
    checks.append(_education(programme.education, profile.education, text, lang))
    checks.append(_health(programme, profile.health_declaration, text, lang))
    if programme.gender is not None:
        checks.append(Requirement(kind="gender", status="to_check",
                                  message=text[f"gender_{programme.gender}"],
                                  route=text["gender_route"]))  # fmt: skip
    declared = set(profile.disqualifiers)
    for rule in programme.disqualifiers:
        if rule.id in declared:
            rule_text = rule.text_vi if lang == "vi" else rule.text_en
            checks.append(Requirement(kind="disqualifier", status="not_met", route=None,
                                      message=text["disqualified"].format(text=rule_text),
                                      **_cited(rule)))  # fmt: skip
    unmet = [c for c in checks if c.status == "not_met"]
    to_check = [c for c in checks if c.status == "to_check"]
    status: EligibilityStatus = (
        "not_eligible" if unmet else "eligible_if" if to_check else "eligible"
    )
    return Eligibility(
        programme_id=programme.id, status=status, unmet=unmet, to_check=to_check,
        met=[c for c in checks if c.status == "met"],
    )  # fmt: skip


def _age(programme: Programme, birth_year: int | None, text: dict[str, str],
         year: int) -> Requirement:  # fmt: skip
    rule = programme.age
    if birth_year is None:
        return Requirement(kind="age", status="to_check", **_cited(rule),
                           message=text["age_missing"].format(lo=rule.min, hi=rule.max),
                           route=text["age_route_missing"])  # fmt: skip
    age = year - birth_year
    if age < rule.min:
        return Requirement(kind="age", status="not_met", **_cited(rule),
                           message=text["age_young"].format(lo=rule.min, age=age),
                           route=text["age_young_route"].format(lo=rule.min,
                                                                year=birth_year + rule.min))  # fmt: skip
    if age > rule.max:
        return Requirement(kind="age", status="not_met", route=None, **_cited(rule),
                           message=text["age_old"].format(lo=rule.min, hi=rule.max, age=age))  # fmt: skip
    return Requirement(kind="age", status="met", **_cited(rule),
                       message=text["age_ok"].format(age=age, lo=rule.min, hi=rule.max))  # fmt: skip


def _health(programme: Programme, declared: str | None, text: dict[str, str],
            lang: Lang) -> Requirement:  # fmt: skip
    rule = programme.health
    rule_text = rule.text_vi if lang == "vi" else rule.text_en
    if declared == "fit":
        return Requirement(kind="health", status="met", message=text["health_ok"], **_cited(rule))
    if declared == "not_fit":
        return Requirement(kind="health", status="not_met", route=None, **_cited(rule),
                           message=text["health_bad"].format(text=rule_text))  # fmt: skip
    return Requirement(kind="health", status="to_check", **_cited(rule),
                       message=text["health_missing"].format(text=rule_text),
                       route=text["health_route"])  # fmt: skip


def _language(
    rule: LanguageRule, has: list[LanguageAbility], text: dict[str, str], lang: Lang
) -> Requirement:
    tests = [rule, *rule.alternatives]
    wanted = " / ".join(f"{t.test} ≥ {t.min_level}" for t in tests)
    route = rule.preparation_vi if lang == "vi" else rule.preparation_en
    best: str | None = None
    for test in tests:
        needed = level_rank(test.min_level, test.scale)
        for ability in has:
            if not _same_test(ability.certificate, test.test):
                continue
            level = level_rank(ability.level, test.scale)
            if level is not None and needed is not None and level >= needed:
                message = text["lang_ok"].format(test=test.test, has=ability.level,
                                                 level=test.min_level)  # fmt: skip
                return Requirement(kind="language", status="met", message=message, **_cited(rule))
            best = best or f"{ability.certificate} {ability.level or '?'}"
    if best is None and rule.alternatives:
        message = text["lang_missing_any"].format(tests=wanted)
    elif best is None:
        message = text["lang_missing"].format(test=rule.test, level=rule.min_level)
    else:
        message = text["lang_low"].format(test=rule.test, level=rule.min_level, has=best)
    # no certificate declared: to check (a test to take); a lower level declared: not met
    status = "to_check" if best is None else "not_met"
    return Requirement(kind="language", status=status, message=message, route=route,
                       **_cited(rule))  # fmt: skip


def _education(
    rule: EducationRule, education: str | None, text: dict[str, str], lang: Lang
) -> Requirement:
    if rule.min == "none":
        return Requirement(kind="education", status="met", **_cited(rule),
                           message=text["edu_ok"].format(has=education or "—"))  # fmt: skip
    level = education_level(education)
    if level is None:
        return Requirement(kind="education", status="to_check", **_cited(rule),
                           message=text["edu_missing"].format(level=rule.min),
                           route=text["edu_route_missing"])  # fmt: skip
    if EDUCATION_ORDER.index(level) < EDUCATION_ORDER.index(rule.min):
        return Requirement(kind="education", status="not_met", **_cited(rule),
                           message=text["edu_low"].format(level=rule.min, has=level),
                           route=text["edu_route"].format(level=rule.min))  # fmt: skip
    return Requirement(kind="education", status="met", **_cited(rule),
                       message=text["edu_ok"].format(has=level))  # fmt: skip
