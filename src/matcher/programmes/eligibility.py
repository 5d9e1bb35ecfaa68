"""Eligibility: a profile checked against one programme's cited rules, each requirement with
how to meet it, in Vietnamese or English."""

from __future__ import annotations

import datetime as dt
import re

from matcher.programmes.rules import EDUCATION_ORDER, EducationRule, LanguageRule, Programme
from matcher.reference.languages import level_rank
from matcher.schemas import CandidateProfileIn, Eligibility, Lang, LanguageAbility, Requirement


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
        "health_missing": "Cần đủ sức khỏe theo quy định ({text}); hồ sơ chưa khai sức khỏe",
        "health_route": "Khám sức khỏe tại cơ sở y tế đủ điều kiện và khai trong hồ sơ",
        "health_bad": "Chưa đủ điều kiện sức khỏe ({text})",
        "health_ok": "Đã khai đủ sức khỏe",
        "disqualified": "Không đủ điều kiện: {text}",
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
        "health_missing": "Must be fit under the programme's health rules ({text}); no health "
        "declaration in the profile",
        "health_route": "Have a medical check at an approved clinic and declare it",
        "health_bad": "Health requirement not met ({text})",
        "health_ok": "Declared fit",
        "disqualified": "Not eligible: {text}",
    },
}


def check_eligibility(
    programme: Programme,
    profile: CandidateProfileIn,
    *,
    last_checked: dt.date,
    lang: Lang = "vi",
    today: dt.date | None = None,
) -> Eligibility:
    """Every hard requirement of ``programme`` for ``profile``: met or not, and the route."""
    text = _TEXT[lang]
    year = (today or dt.date.today()).year
    checks: list[Requirement] = []
    age_rule = programme.age
    if profile.birth_year is None:
        checks.append(Requirement(
            kind="age", met=False, source=age_rule.source,
            message=text["age_missing"].format(lo=age_rule.min, hi=age_rule.max),
            route=text["age_route_missing"],
        ))  # fmt: skip
    else:
        age = year - profile.birth_year
        if age < age_rule.min:
            message = text["age_young"].format(lo=age_rule.min, age=age)
            route = text["age_young_route"].format(lo=age_rule.min,
                                                   year=profile.birth_year + age_rule.min)  # fmt: skip
            checks.append(Requirement(kind="age", met=False, message=message, route=route,
                                      source=age_rule.source))  # fmt: skip
        elif age > age_rule.max:
            message = text["age_old"].format(lo=age_rule.min, hi=age_rule.max, age=age)
            checks.append(Requirement(kind="age", met=False, message=message, route=None,
                                      source=age_rule.source))  # fmt: skip
        else:
            message = text["age_ok"].format(age=age, lo=age_rule.min, hi=age_rule.max)
            checks.append(Requirement(kind="age", met=True, message=message,
                                      source=age_rule.source))  # fmt: skip
    if programme.language is not None:
        checks.append(_language(programme.language, profile.languages, text, lang))
    checks.append(_education(programme.education, profile.education, text, lang))
    if profile.health_declaration == "fit":
        checks.append(Requirement(kind="health", met=True, message=text["health_ok"],
                                  source=programme.health.source))  # fmt: skip
    else:
        rule_text = programme.health.text_vi if lang == "vi" else programme.health.text_en
        key = "health_bad" if profile.health_declaration == "not_fit" else "health_missing"
        checks.append(Requirement(
            kind="health", met=False, message=text[key].format(text=rule_text),
            route=None if key == "health_bad" else text["health_route"],
            source=programme.health.source,
        ))  # fmt: skip
    declared = set(profile.disqualifiers)
    for rule in programme.disqualifiers:
        if rule.id in declared:
            rule_text = rule.text_vi if lang == "vi" else rule.text_en
            checks.append(Requirement(kind="disqualifier", met=False, route=None,
                                      message=text["disqualified"].format(text=rule_text),
                                      source=rule.source))  # fmt: skip
    unmet = [c for c in checks if not c.met]
    return Eligibility(
        programme_id=programme.id, eligible=not unmet, unmet=unmet,
        met=[c for c in checks if c.met], last_checked=last_checked,
    )  # fmt: skip


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
                return Requirement(kind="language", met=True, message=message, source=rule.source)
            best = best or f"{ability.certificate} {ability.level or '?'}"
    if best is None and rule.alternatives:
        message = text["lang_missing_any"].format(tests=wanted)
    elif best is None:
        message = text["lang_missing"].format(test=rule.test, level=rule.min_level)
    else:
        message = text["lang_low"].format(test=rule.test, level=rule.min_level, has=best)
    return Requirement(kind="language", met=False, message=message, route=route,
                       source=rule.source)  # fmt: skip


def _education(
    rule: EducationRule, education: str | None, text: dict[str, str], lang: Lang
) -> Requirement:
    if rule.min == "none":
        return Requirement(kind="education", met=True, source=rule.source,
                           message=text["edu_ok"].format(has=education or "—"))  # fmt: skip
    level = education_level(education)
    if level is None:
        return Requirement(kind="education", met=False, source=rule.source,
                           message=text["edu_missing"].format(level=rule.min),
                           route=text["edu_route_missing"])  # fmt: skip
    if EDUCATION_ORDER.index(level) < EDUCATION_ORDER.index(rule.min):
        return Requirement(kind="education", met=False, source=rule.source,
                           message=text["edu_low"].format(level=rule.min, has=level),
                           route=text["edu_route"].format(level=rule.min))  # fmt: skip
    return Requirement(kind="education", met=True, source=rule.source,
                       message=text["edu_ok"].format(has=level))  # fmt: skip
