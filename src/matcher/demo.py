"""A synthetic, clearly labelled demo data set, generated from ESCO and the project's data.

Every record says it is a demo: employers are named ``[DEMO] …`` and profiles ``[DEMO] Ứng
viên N``. The generator is seeded, so the same seed gives the same data.
"""

from __future__ import annotations

import datetime as _dt
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from matcher.programmes.rules import ProgrammeCatalog
from matcher.reference.provinces import load_provinces
from matcher.reference.taxonomy import Occupation, Taxonomy
from matcher.schemas import (
    CandidateProfileIn,
    EarnedCertificate,
    JobPostingIn,
    LanguageAbility,
    OverseasContract,
)

DEMO_PREFIX = "[DEMO]"
#: The year ages are computed from, so the same seed gives the same data every year.
DEMO_YEAR = 2026

#: Typical programme jobs (ESCO labels), by destination, for programmes whose own list of
#: occupations has none ESCO knows.
PROGRAMME_JOBS = {
    "KR": ["sewing machine operator", "welder", "metal products assembler", "bricklayer",
           "crop production worker", "livestock worker"],
    "JP": ["welder", "sewing machine operator", "food service worker", "cook"],
    "DE": ["nurse responsible for general care", "residential home older adult care worker"],
    "TW": ["electronic equipment assembler", "home care aide"],
}  # fmt: skip
LANGUAGE_OF = {"KR": "Korean", "JP": "Japanese", "DE": "German", "TW": "Chinese"}


@dataclass(frozen=True)
class DemoProgramme:
    id: str
    country: str
    occupations: list[str]
    language: LanguageAbility | None
    age: tuple[int, int]
    scale: str
    priority_groups: list[str]


def demo_programmes(catalog: ProgrammeCatalog, taxonomy: Taxonomy) -> list[DemoProgramme]:
    """What the generator needs from each programme of the rules file."""
    found = []
    for programme in catalog.programmes:
        labels = [label for label in programme.occupations_en if taxonomy.find_occupation(label)]
        rule = programme.language
        language = (
            LanguageAbility(language=LANGUAGE_OF.get(programme.destination, "Korean"),
                            certificate=rule.test, level=rule.min_level)
            if rule else None
        )  # fmt: skip
        found.append(DemoProgramme(
            id=programme.id, country=programme.destination,
            occupations=labels or PROGRAMME_JOBS.get(programme.destination, ["welder"]),
            language=language, age=(programme.age.min, programme.age.max),
            scale=rule.scale if rule else "score",
            priority_groups=list(programme.support.priority_groups),
        ))  # fmt: skip
    return found


def below(level: str, scale: str) -> str:
    """A level just under ``level`` on its scale (a score 10 points lower, N4 → N5, B1 → A2)."""
    if scale == "jlpt":
        return f"N{min(5, int(level[1:]) + 1)}"
    if scale == "cefr":
        order = ["A1", "A2", "B1", "B2", "C1", "C2"]
        return order[max(0, order.index(level) - 1)]
    return str(max(0, int(float(level)) - 10))


#: Work done abroad by returning contract workers (ESCO labels), by country.
RETURNEE_JOBS = {
    "KR": ["welder", "sewing machine operator", "metal products assembler",
           "crop production worker", "electronic equipment assembler"],
    "JP": ["welder", "food service worker", "cook", "metal products assembler",
           "residential home older adult care worker"],
    "DE": ["residential home older adult care worker", "nurse responsible for general care"],
    "TW": ["electronic equipment assembler", "sewing machine operator"],
}  # fmt: skip
#: Language certificates returnees bring home, by country: (certificate, levels).
RETURNEE_CERTIFICATES = {
    "KR": ("TOPIK", ["2", "3", "4"]),
    "JP": ("JLPT", ["N4", "N3", "N2"]),
    "DE": ("Goethe", ["B1", "B2"]),
    "TW": ("TOCFL", ["1", "2"]),
}
#: Skills certificates earned abroad for some jobs (names in data/overseas_certificates.yaml).
SKILL_CERTIFICATES = {
    ("KR", "welder"): "Craftsman Welding",
    ("JP", "residential home older adult care worker"): "Nursing care skills evaluation test",
}
#: Domestic employers with foreign capital that ask for the investor's language.
FOREIGN_INVESTED = {
    "KR": ["Công ty TNHH Hanjin Vina (vốn Hàn Quốc)", "Công ty TNHH Điện tử Daesung Việt Nam"],
    "JP": ["Công ty TNHH Cơ khí Tanaka Việt Nam (vốn Nhật)", "Nhà hàng Sakura (vốn Nhật)"],
    "DE": ["Viện dưỡng lão Sonnenhof Việt Đức"],
}
#: What they ask for: (ESCO occupation, language level) by investor's country.
FOREIGN_INVESTED_JOBS = {
    "KR": [("welder", "3"), ("production supervisor", "3"), ("interpreter", "4"),
           ("sewing machine operator", "2"), ("electronic equipment assembler", "2")],
    "JP": [("welder", "N4"), ("cook", "N4"), ("production supervisor", "N3"),
           ("interpreter", "N2")],
    "DE": [("residential home older adult care worker", "B1")],
}  # fmt: skip
LANGUAGE_TESTS = {"KR": "TOPIK", "JP": "JLPT", "DE": "Goethe"}

#: Public-sector origins of former civil servants and public employees.
PUBLIC_ORIGINS = [
    "primary school teacher", "secondary school teacher", "early years teacher",
    "nurse responsible for general care", "midwife", "pharmacist", "accountant",
    "civil service administrative officer", "archivist", "social worker", "tax inspector",
    "office clerk", "administrative assistant",
]  # fmt: skip
SECTORS = {
    "2": "giáo dục / y tế / chuyên môn",
    "3": "kỹ thuật / y tế",
    "4": "hành chính",
    "5": "dịch vụ",
}
EMPLOYERS = [
    "Công ty TNHH Minh Phát", "Công ty CP Dệt may Sông Hồng", "Tập đoàn Xây dựng An Bình",
    "Công ty TNHH Điện tử Hòa Lạc", "Trung tâm Dịch vụ việc làm", "Công ty CP Thực phẩm Miền Tây",
    "Hệ thống Giáo dục Ánh Dương", "Bệnh viện Đa khoa Tâm An", "Công ty Kế toán Việt Tín",
    "Công ty CP Logistics Sao Mai", "Khách sạn Biển Xanh", "Hợp tác xã Nông nghiệp Xanh",
]  # fmt: skip


class DemoGenerator:
    def __init__(
        self,
        taxonomy: Taxonomy,
        project_data_dir: Path,
        seed: int = 7,
        programmes: ProgrammeCatalog | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.programmes = demo_programmes(programmes, taxonomy) if programmes else []
        self.random = random.Random(seed)
        #: returnees and foreign-invested postings: a stream of their own
        self.returnees = random.Random(seed * 1_000 + 1)
        #: how often each skill went into a generated record (what the demo data shows)
        self.skills_used: Counter[str] = Counter()
        self.provinces = load_provinces(project_data_dir)
        with_vi = [
            o
            for o in taxonomy.occupations.values()
            if o.vi_labels and taxonomy.essential.get(o.uri)
        ]
        self.destinations = sorted(with_vi, key=lambda o: o.uri)

    def _province(self, rnd: random.Random | None = None) -> str:
        rnd = rnd or self.random
        return rnd.choices(self.provinces, weights=[p.weight for p in self.provinces])[0].name

    def _skills(self, occupation: Occupation, count: int, rnd: random.Random | None = None
                ) -> list[str]:  # fmt: skip
        uris = list(self.taxonomy.essential.get(occupation.uri, []))
        (rnd or self.random).shuffle(uris)
        self.skills_used.update(uris[:count])
        return uris[:count]

    def _skill_names(self, uris: list[str], vietnamese: bool) -> list[str]:
        names = []
        for uri in uris:
            skill = self.taxonomy.skills[uri]
            names.append(skill.vi_labels[0] if vietnamese and skill.vi_labels else skill.label)
        return names

    def _occupation(self, label: str) -> Occupation:
        occupation = self.taxonomy.find_occupation(label)
        if occupation is None:  # pragma: no cover - the labels above are ESCO's
            raise LookupError(f"demo occupation {label!r} is not in ESCO")
        return occupation

    def posting(self, occupation: Occupation | None = None) -> JobPostingIn:
        """A posting; of ``occupation`` (domestic) if given, else of a random one."""
        rnd = self.random
        if occupation is not None:
            programme, country, language = None, "VN", None
            vietnamese = rnd.random() < 0.7
        elif rnd.random() < 0.12 and self.programmes:
            chosen = rnd.choice(self.programmes)
            programme, country, language = chosen.id, chosen.country, chosen.language
            occupation = self._occupation(rnd.choice(chosen.occupations))
            vietnamese = True
        else:
            programme, country, language = None, "VN", None
            occupation = rnd.choice(self.destinations)
            vietnamese = rnd.random() < 0.7
        vietnamese = vietnamese and bool(occupation.vi_labels)
        skills = self._skills(occupation, rnd.randint(4, 8))
        required, mentioned = skills[:3], self._skill_names(skills[3:], vietnamese)
        if vietnamese:
            title = rnd.choice(occupation.vi_labels)
            if programme:
                title = f"{title} — {programme} ({country})"
            body = f"{DEMO_PREFIX} Tin tuyển dụng minh họa. Công việc: {title}."
            if mentioned:
                body += " Yêu cầu thêm: " + ", ".join(mentioned) + "."
        else:
            title = occupation.label.capitalize()
            body = f"{DEMO_PREFIX} Illustrative posting. {occupation.description[:600]}"
            if mentioned:
                body += " Also: " + ", ".join(mentioned) + "."
        base = {"1": 25, "2": 18, "3": 13, "4": 9, "5": 8, "6": 7, "7": 10, "8": 9, "9": 7}.get(
            occupation.isco_group[:1], 9
        )
        low = base * 1_000_000 + rnd.randint(0, 4) * 500_000
        languages = [language] if language else []
        if not programme and rnd.random() < 0.15:
            languages.append(LanguageAbility(language="English", certificate="IELTS", level="5.0"))
        return JobPostingIn(
            title=title,
            description=body,
            employer=f"{DEMO_PREFIX} {rnd.choice(EMPLOYERS)}",
            province=None if programme else self._province(),
            country=country,
            remote=not programme and rnd.random() < 0.05,
            salary_min=low * (3 if programme else 1),
            salary_max=(low + rnd.randint(2, 8) * 1_000_000) * (3 if programme else 1),
            required_skills=required,
            languages=languages,
            min_experience_years=rnd.choice([None, None, 1, 2, 3, 5]),
            programme=programme,
            occupation=occupation.uri,
        )

    def returnee(self, number: int) -> CandidateProfileIn:
        """A contract worker back home: one or two overseas contracts with their tasks, some
        with a language certificate and a skills certificate, some without (their own
        random stream: the other demo records stay as they were)."""
        rnd = self.returnees
        country = rnd.choice(sorted(RETURNEE_JOBS))
        programmes = [p for p in self.programmes if p.country == country]
        contracts = []
        end_year = DEMO_YEAR - rnd.randint(1, 6)
        for _ in range(rnd.choice([1, 1, 1, 2])):
            occupation = self._occupation(rnd.choice(RETURNEE_JOBS[country]))
            uris = list(self.taxonomy.essential.get(occupation.uri, []))
            rnd.shuffle(uris)
            tasks = ", ".join(self._skill_names(uris[:4], vietnamese=True))
            years = rnd.choice([1, 2, 3, 3, 4, 5])
            certificate, levels = RETURNEE_CERTIFICATES[country]
            earned = []
            if rnd.random() < 0.6:
                earned.append(EarnedCertificate(name=certificate, level=rnd.choice(levels)))
            skill_certificate = SKILL_CERTIFICATES.get((country, occupation.label))
            if skill_certificate and rnd.random() < 0.5:
                earned.append(EarnedCertificate(name=skill_certificate))
            contracts.append(OverseasContract(
                country=country,
                programme=rnd.choice(programmes).id if programmes and rnd.random() < 0.8 else None,
                sector=rnd.choice(occupation.vi_labels) if occupation.vi_labels else occupation.label,
                employer_type="care_home" if "care" in occupation.label else "factory",
                start=_dt.date(end_year - years, rnd.randint(1, 12), 1),
                end=_dt.date(end_year, rnd.randint(1, 12), 1),
                tasks=f"{DEMO_PREFIX} {occupation.vi_labels[0] if occupation.vi_labels else occupation.label}: {tasks}.",
                language=LanguageAbility(language=LANGUAGE_OF[country]),
                certificates=earned,
                returned=_dt.date(end_year + 1, 1, 1) if end_year + 1 <= DEMO_YEAR else None,
            ))  # fmt: skip
            end_year -= years + 1
        contracts.reverse()
        return CandidateProfileIn(
            text=f"{DEMO_PREFIX} Hồ sơ minh họa: người lao động đã về nước sau hợp đồng ở nước ngoài.",
            overseas_contracts=contracts,
            province=self._province(rnd),
            willing_to_relocate=rnd.random() < 0.3,
            willing_to_work_abroad=rnd.random() < 0.3,
            preferred_countries=[country],
            birth_year=DEMO_YEAR - rnd.randint(24, 42),
            consent_to_be_found=rnd.random() < 0.85,
            consent_to_centres=rnd.random() < 0.7,
            name=f"{DEMO_PREFIX} Người về nước {number}",
            contact=f"returnee{number}@example.invalid",
        )  # fmt: skip

    def foreign_invested_posting(self) -> JobPostingIn:
        """A domestic posting of a Korean-, Japanese- or German-invested employer that asks for
        the investor's language."""
        rnd = self.returnees
        country = rnd.choice(sorted(FOREIGN_INVESTED_JOBS))
        label, level = rnd.choice(FOREIGN_INVESTED_JOBS[country])
        occupation = self._occupation(label)
        skills = self._skills(occupation, rnd.randint(4, 6), rnd)
        title = occupation.vi_labels[0] if occupation.vi_labels else occupation.label.capitalize()
        language = LanguageAbility(language=LANGUAGE_OF[country], certificate=LANGUAGE_TESTS[country],
                                   level=level)  # fmt: skip
        return JobPostingIn(
            title=f"{title} (yêu cầu {LANGUAGE_OF[country]} {level})",
            description=f"{DEMO_PREFIX} Tin tuyển dụng minh họa của doanh nghiệp có vốn đầu tư "
            f"nước ngoài. Công việc: {title}. Ưu tiên người đã làm việc ở nước ngoài.",
            employer=f"{DEMO_PREFIX} {rnd.choice(FOREIGN_INVESTED[country])}",
            province=self._province(rnd),
            salary_min=12_000_000,
            salary_max=12_000_000 + rnd.randint(2, 10) * 1_000_000,
            required_skills=self._skill_names(skills[:3], vietnamese=True),
            languages=[language],
            min_experience_years=rnd.choice([None, 1, 2, 3]),
            occupation=occupation.uri,
        )

    def profile(self, number: int) -> CandidateProfileIn:
        return self.labelled_profile(number)[0]

    def labelled_profile(self, number: int) -> tuple[CandidateProfileIn, Occupation]:
        """A profile and the ESCO occupation it was written from (the label for evaluation)."""
        rnd = self.random
        abroad = rnd.random() < 0.4 and bool(self.programmes)
        chosen = rnd.choice(self.programmes) if abroad else None
        if chosen is not None:
            country, language = chosen.country, chosen.language
            origin = self._occupation(rnd.choice(chosen.occupations))
            # different stages of readiness: ages around the limits, some over them
            birth_year = DEMO_YEAR - rnd.randint(chosen.age[0] - 2, chosen.age[1] + 4)
        else:
            origin = self._occupation(rnd.choice(PUBLIC_ORIGINS))
            country, language = None, None
            birth_year = DEMO_YEAR - rnd.randint(28, 58)
        vietnamese = rnd.random() < 0.75
        skills = self._skills(origin, rnd.randint(5, 9))
        named = self._skill_names(skills, vietnamese)
        years = rnd.randint(1, 25)
        position = rnd.choice(origin.vi_labels) if vietnamese else origin.label
        if vietnamese:
            text = (
                f"{DEMO_PREFIX} Hồ sơ minh họa. Nguyên {position}, {years} năm kinh nghiệm. "
                f"Kỹ năng: {', '.join(named)}."
            )
        else:
            text = (
                f"{DEMO_PREFIX} Illustrative profile. Former {position}, {years} years of "
                f"experience. Skills: {', '.join(named)}."
            )
        languages = []
        draw = rnd.random()
        if language is not None and chosen is not None and draw < 0.45:
            languages.append(language)  # ready: exactly at the programme's threshold
        elif language is not None and chosen is not None and draw < 0.7:
            level = below(language.level or "0", chosen.scale)  # just below the threshold
            languages.append(language.model_copy(update={"level": level}))
        elif language is not None and draw < 0.85:
            languages.append(LanguageAbility(language=language.language))  # studying, no test
        if rnd.random() < 0.3:
            languages.append(
                LanguageAbility(
                    language="English", certificate="IELTS", level=rnd.choice(["4.5", "5.5", "6.5"])
                )
            )
        profile = CandidateProfileIn(
            text=text,
            former_position=position,
            sector=SECTORS.get(origin.isco_group[:1], "khác"),
            years_experience=float(years),
            skills=named[:3],
            education=rnd.choice(["Trung cấp", "Cao đẳng", "Đại học", "Thạc sĩ", "THPT"]),
            languages=languages,
            province=self._province(),
            willing_to_relocate=rnd.random() < 0.4,
            willing_to_work_abroad=abroad,
            preferred_countries=[country] if country else [],
            birth_year=birth_year,
            health_declaration=rnd.choice(["fit", "fit", "fit", None]) if abroad else None,
            priority_groups=(
                [rnd.choice(chosen.priority_groups)]
                if chosen is not None and chosen.priority_groups and rnd.random() < 0.3
                else []
            ),
            consent_to_be_found=rnd.random() < 0.85,
            # no draw from the stream: the records before this field stay as they were
            consent_to_centres=number % 3 != 0,
            name=f"{DEMO_PREFIX} Ứng viên {number}",
            contact=f"demo{number}@example.invalid",
        )
        return profile, origin
