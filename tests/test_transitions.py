"""Career transitions and skill gaps in the library, on real ESCO data and the real model."""

from __future__ import annotations

import pytest

from matcher.careers.skill_gaps import rank_gaps
from matcher.careers.transitions import level_fit
from matcher.errors import NotFoundError
from matcher.schemas import JobPosting, SkillRef
from matcher.store import now

pytestmark = pytest.mark.slow
NURSE = "http://data.europa.eu/esco/occupation/nurse"


@pytest.mark.parametrize(
    "origin",
    ["nguyên chuyên viên phòng nội vụ huyện", "giáo viên tiểu học", "điều dưỡng", "y sĩ",
     "công chức địa chính xã", "văn thư", "registered nurse"],
)  # fmt: skip
def test_targets_never_include_the_origin_and_skills_follow_esco(service, origin):
    result = service.transitions(origin, k=10, lang="vi")
    taxonomy = service.taxonomy
    origin_uris = set(result.origin.uris)
    assert len(result.transitions) == 10
    credit = set()
    for uri in origin_uris:
        credit |= set(taxonomy.essential.get(uri, [])) | set(taxonomy.optional.get(uri, []))
    scores = [t.score for t in result.transitions]
    assert scores == sorted(scores, reverse=True)
    for target in result.transitions:
        assert target.uri not in origin_uris
        assert not target.isco_group.startswith(("111", "0"))  # no elected posts, no army
        essential = set(taxonomy.essential.get(target.uri, []))
        related = essential | set(taxonomy.optional.get(target.uri, []))
        for skill in target.shared_skills:
            assert skill.uri in related and skill.uri in credit
            assert skill.essential == (skill.uri in essential)
        for skill in target.missing_skills:
            assert skill.uri in related and skill.uri not in credit
        flags = [s.essential for s in target.missing_skills]
        assert flags == sorted(flags, reverse=True)  # essential first
        assert target.missing_essential_count == len(essential - credit)
        assert target.reason.endswith(".")


def test_a_position_resolves_through_the_map_before_the_encoder(service):
    result = service.transitions("nguyên chuyên viên phòng nội vụ huyện", k=3, lang="en")
    assert result.origin.via == "position"
    assert result.origin.position_id == "chuyen-vien-phong-noi-vu"
    assert "essential skills" in result.transitions[0].reason
    free = service.transitions("người lái máy xúc công trình", k=3)
    assert free.origin.via == "encoder"


def test_an_esco_id_is_taken_as_is_and_unknown_ids_are_not_found(service):
    teacher = "http://data.europa.eu/esco/occupation/03d79393-7b30-4159-945b-01963eddd302"
    by_uri = service.transitions(teacher, k=5)
    by_uuid = service.transitions(teacher.rsplit("/", 1)[-1], k=5)
    assert by_uri.origin.via == "uri" and by_uri.origin.uris == [teacher]
    assert [t.uri for t in by_uri.transitions] == [t.uri for t in by_uuid.transitions]
    with pytest.raises(NotFoundError, match="not in ESCO"):
        service.transitions(NURSE, k=5)
    with pytest.raises(NotFoundError):
        service.transitions("giáo viên", k=5, ids_only=True)


def test_targets_are_diverse_across_isco_groups(service):
    result = service.transitions("giáo viên THCS", k=10)
    groups = [t.isco_group for t in result.transitions]
    assert max(groups.count(g) for g in groups) <= 2


def test_level_fit_prefers_moves_without_new_qualifications():
    assert level_fit(4, 4) == 1.0
    assert level_fit(4, 3) > level_fit(4, 2) > level_fit(2, 4)
    assert level_fit(3, 4) > level_fit(2, 4)


def _job(skills: list[tuple[str, bool]], province: str = "Hà Nội") -> JobPosting:
    stamp = now()
    refs = [SkillRef(uri=uri, label=uri.rsplit("/", 1)[-1], essential=e) for uri, e in skills]
    return JobPosting(id=str(len(skills)) + province, title="x", province=province,
                      skills=refs, created_at=stamp, updated_at=stamp)  # fmt: skip


def test_skill_gaps_count_unlocked_and_improved_postings(service):
    excel = "http://data.europa.eu/esco/skill/1973c966-f236-40c9-b2d4-5d71a89019be"
    korean = "http://data.europa.eu/esco/skill/81192ed1-cabc-48c5-bbc3-9ff06d3f2958"
    has = "http://data.europa.eu/esco/skill/has"
    postings = [
        _job([(has, True), (excel, True)]),  # excel is the only gap: unlocks
        _job([(has, True), (excel, True), (korean, True)], "Huế"),  # improves only
        _job([(korean, False)], "Huế"),  # improves only (optional)
    ]
    gaps = rank_gaps(frozenset({has}), postings, service.taxonomy, service.training_routes,
                     k=5, lang="en", place="Hà Nội")  # fmt: skip
    assert [g.uri for g in gaps] == [excel, korean]
    assert (gaps[0].unlocks, gaps[0].improves, gaps[0].essential_in) == (1, 2, 2)
    assert (gaps[1].unlocks, gaps[1].improves) == (0, 2)
    assert "would add 1 postings in Hà Nội" in gaps[0].reason
    assert gaps[0].training.kind == "short_course"  # spreadsheets: working with computers
    assert gaps[1].training.kind == "language_centre"  # understand spoken Korean
    assert gaps[1].group_path and gaps[0].group


def test_a_broken_training_routes_file_names_the_line(service, tmp_path):
    import shutil

    from matcher.careers.skill_gaps import ROUTES_FILE, load_training_routes
    from matcher.errors import DataFormatError

    shutil.copytree(service.settings.project_data_dir, tmp_path / "data")
    path = tmp_path / "data" / ROUTES_FILE
    text = path.read_text(encoding="utf-8").replace("S5,short_course", "S5,evening_class", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFormatError, match=rf"{ROUTES_FILE}:4: .*evening_class"):
        load_training_routes(tmp_path / "data", service.taxonomy)
