"""A synthetic, clearly labelled demo data set, generated from ESCO and the project's data.

Every record says it is a demo: employers are named ``[DEMO] …`` and profiles ``[DEMO] Ứng
viên N``. The generator is seeded, so the same seed gives the same data.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from matcher.schemas import CandidateProfileIn, JobPostingIn, LanguageAbility
from matcher.taxonomy import Occupation, Taxonomy

DEMO_PREFIX = "[DEMO]"

#: Overseas programme postings: programme id → destination, occupations, language requirement.
PROGRAMMES: dict[str, tuple[str, list[str], LanguageAbility | None]] = {
    "eps-korea-manufacturing": ("KR", ["sewing machine operator", "welder", "metal products assembler", "injection moulding operator"], LanguageAbility(language="Korean", certificate="EPS-TOPIK", level="80")),
    "eps-korea-construction": ("KR", ["bricklayer", "construction scaffolder", "concrete finisher", "plasterer"], LanguageAbility(language="Korean", certificate="EPS-TOPIK", level="80")),
    "eps-korea-agriculture": ("KR", ["crop production worker", "livestock worker"], LanguageAbility(language="Korean", certificate="EPS-TOPIK", level="80")),
    "eps-korea-fisheries": ("KR", ["water-based aquaculture worker", "aquaculture husbandry worker"], LanguageAbility(language="Korean", certificate="EPS-TOPIK", level="80")),
    "korea-seasonal": ("KR", ["crop production worker"], None),
    "im-japan": ("JP", ["welder", "sewing machine operator", "food service worker", "electronic equipment assembler"], LanguageAbility(language="Japanese", certificate="JLPT", level="N5")),
    "japan-ssw": ("JP", ["residential home older adult care worker", "cook", "food service worker"], LanguageAbility(language="Japanese", certificate="JLPT", level="N4")),
    "germany-nursing": ("DE", ["nurse responsible for general care", "residential home older adult care worker"], LanguageAbility(language="German", certificate="Goethe", level="B1")),
    "taiwan-contract": ("TW", ["electronic equipment assembler", "home care aide"], None),
}  # fmt: skip

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


@dataclass(frozen=True)
class Province:
    name: str
    region: str
    weight: float


def load_provinces(project_data_dir: Path) -> list[Province]:
    with (Path(project_data_dir) / "provinces.csv").open(encoding="utf-8", newline="") as handle:
        return [
            Province(r["name"], r["region"], float(r["weight"])) for r in csv.DictReader(handle)
        ]


class DemoGenerator:
    def __init__(self, taxonomy: Taxonomy, project_data_dir: Path, seed: int = 7) -> None:
        self.taxonomy = taxonomy
        self.random = random.Random(seed)
        self.provinces = load_provinces(project_data_dir)
        with_vi = [
            o
            for o in taxonomy.occupations.values()
            if o.vi_labels and taxonomy.essential.get(o.uri)
        ]
        self.destinations = sorted(with_vi, key=lambda o: o.uri)

    def _province(self) -> str:
        return self.random.choices(self.provinces, weights=[p.weight for p in self.provinces])[
            0
        ].name

    def _skills(self, occupation: Occupation, count: int) -> list[str]:
        uris = list(self.taxonomy.essential.get(occupation.uri, []))
        self.random.shuffle(uris)
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

    def posting(self) -> JobPostingIn:
        rnd = self.random
        if rnd.random() < 0.12:
            programme = rnd.choice(sorted(PROGRAMMES))
            country, labels, language = PROGRAMMES[programme]
            occupation = self._occupation(rnd.choice(labels))
            vietnamese = True
        else:
            programme, country, language = None, "VN", None
            occupation = rnd.choice(self.destinations)
            vietnamese = rnd.random() < 0.7
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

    def profile(self, number: int) -> CandidateProfileIn:
        rnd = self.random
        abroad = rnd.random() < 0.4
        if abroad:
            programme = rnd.choice(sorted(PROGRAMMES))
            country, labels, language = PROGRAMMES[programme]
            origin = self._occupation(rnd.choice(labels))
        else:
            origin = self._occupation(rnd.choice(PUBLIC_ORIGINS))
            country, language = None, None
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
        if language is not None and rnd.random() < 0.6:
            languages.append(language)  # ready for the programme's language test
        elif language is not None and rnd.random() < 0.5:
            languages.append(
                LanguageAbility(language=language.language)
            )  # studying, no certificate
        if rnd.random() < 0.3:
            languages.append(
                LanguageAbility(
                    language="English", certificate="IELTS", level=rnd.choice(["4.5", "5.5", "6.5"])
                )
            )
        return CandidateProfileIn(
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
            consent_to_be_found=rnd.random() < 0.85,
            name=f"{DEMO_PREFIX} Ứng viên {number}",
            contact=f"demo{number}@example.invalid",
        )
