"""Overseas contract-work programmes: their rules (``data/programmes.yaml``) and eligibility.

The rules are data, not code: each programme's age range, language test and minimum level,
education, health requirement, disqualifiers, contract, costs and support, each citing one of
the file's sources, with the date the file was last checked. :func:`load_programmes` validates
the whole file on load; a mistake is reported with the line it is on.

:func:`check_eligibility` compares a profile with a programme's hard requirements and returns
every unmet one with the route to meet it (or says there is none, e.g. above the age limit).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from matcher.errors import DataFormatError
from matcher.schemas import CandidateProfileIn, Eligibility, Lang, LanguageAbility, Requirement

PROGRAMMES_FILE = "programmes.yaml"
EDUCATION_ORDER = ("none", "lower-secondary", "upper-secondary", "vocational", "college",
                   "bachelor")  # fmt: skip
_CEFR = ("A1", "A2", "B1", "B2", "C1", "C2")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    title: str
    publisher: str | None = None
    url: str | None = None


class Cited(_Strict):
    source: str


class Texts(Cited):
    text_vi: str
    text_en: str


class AgeRule(Cited):
    min: int = Field(ge=14, le=80)
    max: int = Field(ge=14, le=80)

    @model_validator(mode="after")
    def _ordered(self) -> AgeRule:
        if self.min > self.max:
            raise ValueError(f"age min {self.min} is above max {self.max}")
        return self


class LanguageTest(_Strict):
    test: str
    min_level: str
    scale: Literal["score", "jlpt", "cefr"]

    @model_validator(mode="after")
    def _level_fits_scale(self) -> LanguageTest:
        if level_rank(self.min_level, self.scale) is None:
            raise ValueError(f"min_level {self.min_level!r} is not a {self.scale} level")
        return self


class LanguageRule(LanguageTest, Cited):
    alternatives: list[LanguageTest] = Field(default_factory=list)
    preparation_vi: str
    preparation_en: str


class EducationRule(Cited):
    min: Literal["none", "lower-secondary", "upper-secondary", "vocational", "college",
                 "bachelor"]  # fmt: skip
    note_vi: str = ""
    note_en: str = ""


class Disqualifier(Texts):
    id: str


class Contract(Texts):
    months_min: int = Field(ge=0)
    months_max: int = Field(ge=0)


class Costs(Texts):
    vnd_min: int = Field(ge=0)
    vnd_max: int = Field(ge=0)


class Support(Cited):
    loans_vi: str
    loans_en: str
    priority_groups: list[str] = Field(default_factory=list)


class PriorityGroup(Cited):
    id: str
    name_vi: str
    name_en: str


class Programme(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name_vi: str
    name_en: str
    scheme: str
    destination: str = Field(pattern=r"^[A-Z]{2}$")
    sectors: list[str]
    occupations_en: list[str] = Field(default_factory=list)
    age: AgeRule
    language: LanguageRule | None = None
    education: EducationRule
    health: Texts
    gender: Literal["male", "female"] | None = None
    disqualifiers: list[Disqualifier] = Field(default_factory=list)
    skills_test: Texts | None = None
    contract: Contract
    costs: Costs
    support: Support


class ProgrammeCatalog(_Strict):
    last_checked: dt.date
    sources: dict[str, Source]
    programmes: list[Programme]
    priority_groups: list[PriorityGroup]

    def get(self, programme_id: str) -> Programme | None:
        return next((p for p in self.programmes if p.id == programme_id), None)

    @property
    def groups(self) -> dict[str, PriorityGroup]:
        return {group.id: group for group in self.priority_groups}


# ---------------------------------------------------------------------- loading
def load_programmes(project_data_dir: Path) -> ProgrammeCatalog:
    """Read and validate ``programmes.yaml``; every error names ``file:line``."""
    import yaml

    path = Path(project_data_dir) / PROGRAMMES_FILE
    if not path.exists():
        raise DataFormatError(f"{path} is missing: it ships with the repository (data/)")
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DataFormatError(f"{path}{line}: not valid YAML ({problem})") from None
    try:
        catalog = ProgrammeCatalog.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DataFormatError(
            f"{path}:{_line_of(root, first['loc'])}: {where}: {first['msg']}"
        ) from None
    _check_references(catalog, root, path)
    return catalog


def _line_of(node: Any, loc: tuple[Any, ...]) -> int:
    """The line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    import yaml

    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1 if node is not None else 1


def _check_references(catalog: ProgrammeCatalog, root: Any, path: Path) -> None:
    ids = [p.id for p in catalog.programmes]
    for index, programme in enumerate(catalog.programmes):
        where = ("programmes", index)
        if ids.count(programme.id) > 1:
            line = _line_of(root, (*where, "id"))
            raise DataFormatError(f"{path}:{line}: programme id {programme.id!r} is repeated")
        cited: list[tuple[tuple[Any, ...], str]] = [
            (("age",), programme.age.source), (("education",), programme.education.source),
            (("health",), programme.health.source), (("contract",), programme.contract.source),
            (("costs",), programme.costs.source), (("support",), programme.support.source),
        ]  # fmt: skip
        if programme.language:
            cited.append((("language",), programme.language.source))
        if programme.skills_test:
            cited.append((("skills_test",), programme.skills_test.source))
        cited += [(("disqualifiers", i), d.source) for i, d in enumerate(programme.disqualifiers)]
        for loc, source in cited:
            if source not in catalog.sources:
                line = _line_of(root, (*where, *loc, "source"))
                raise DataFormatError(
                    f"{path}:{line}: source {source!r} is not listed under 'sources'"
                )
        for group in programme.support.priority_groups:
            if group not in catalog.groups:
                line = _line_of(root, (*where, "support", "priority_groups"))
                raise DataFormatError(
                    f"{path}:{line}: priority group {group!r} is not listed under 'priority_groups'"
                )


# ---------------------------------------------------------------------- eligibility
def level_rank(level: str | None, scale: str) -> float | None:
    """An ordinal on one scale: scores as numbers, JLPT N5..N1 → 1..5, CEFR A1..C2 → 1..6."""
    if not level:
        return None
    text = level.strip().upper()
    if scale == "score":
        return float(text.replace(",", ".")) if re.fullmatch(r"\d+(?:[.,]\d+)?", text) else None
    if scale == "jlpt":
        found = re.fullmatch(r"N([1-5])", text)
        return float(6 - int(found.group(1))) if found else None
    if scale == "cefr":
        return float(_CEFR.index(text) + 1) if text in _CEFR else None
    return None


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
