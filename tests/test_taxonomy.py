import shutil

import pytest

from matcher.errors import DataDirError, DataFormatError
from matcher.reference import taxonomy as taxonomy_module
from matcher.reference.taxonomy import load_taxonomy

PRIMARY_TEACHER = "http://data.europa.eu/esco/occupation/03d79393-7b30-4159-945b-01963eddd302"


@pytest.fixture(scope="module")
def taxonomy(settings):
    return load_taxonomy(settings.data_dir, settings.project_data_dir, settings.caches)


def test_esco_is_loaded_whole(taxonomy):
    counts = taxonomy.counts
    assert counts["occupations"] == 3007
    assert counts["skills"] == 13896
    assert counts["essential_relations"] > 64_000 and counts["optional_relations"] > 58_000
    assert counts["isco_groups"] > 600 and counts["skill_groups"] > 600


def test_occupations_carry_labels_description_isco_and_skills(taxonomy):
    teacher = taxonomy.occupations[PRIMARY_TEACHER]
    assert teacher.label == "primary school teacher"
    assert teacher.isco_group == "2341" and teacher.skill_level == 4
    assert teacher.alt_labels and teacher.description
    assert "giáo viên tiểu học" in teacher.vi_labels
    essential = [taxonomy.skills[uri].label for uri in taxonomy.essential[PRIMARY_TEACHER]]
    assert len(essential) > 10 and all(essential)


def test_skills_have_type_reuse_level_and_a_hierarchy_path(taxonomy):
    skill = next(s for s in taxonomy.skills.values() if s.label == "manage musical staff")
    assert skill.skill_type == "skill/competence" and skill.reuse_level == "sector-specific"
    path = [group.label for group in taxonomy.skill_group_path(skill.uri)]
    assert path[0] == "skills" and len(path) >= 3


def test_vietnamese_labels_cover_the_promised_numbers(taxonomy):
    assert taxonomy.counts["occupations_with_vi"] >= 300
    assert taxonomy.counts["skills_with_vi"] >= 500


def test_find_occupation_by_uri_uuid_or_vietnamese_label(taxonomy):
    assert taxonomy.find_occupation(PRIMARY_TEACHER).uri == PRIMARY_TEACHER
    assert taxonomy.find_occupation(PRIMARY_TEACHER.rsplit("/", 1)[1]).uri == PRIMARY_TEACHER
    assert taxonomy.find_occupation("Giáo viên tiểu học").uri == PRIMARY_TEACHER


def test_second_load_comes_from_the_cache(settings, tmp_path, monkeypatch):
    state = tmp_path / "state"
    first = load_taxonomy(settings.data_dir, settings.project_data_dir, state)

    def must_not_parse(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(taxonomy_module, "parse_taxonomy", must_not_parse)
    second = load_taxonomy(settings.data_dir, settings.project_data_dir, state)
    assert second.counts == first.counts


def test_missing_data_dir_says_where_and_how_to_point_to_it(tmp_path, settings):
    with pytest.raises(DataDirError, match=r"MATCHER_DATA_DIR") as error:
        load_taxonomy(tmp_path / "nowhere", settings.project_data_dir, tmp_path)
    assert str(tmp_path / "nowhere") in str(error.value)


def test_a_bad_vietnamese_label_file_names_the_line(settings, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(settings.project_data_dir / "vi", project / "vi")
    with (project / "vi" / "skills_vi_zz.csv").open("w", encoding="utf-8") as handle:
        handle.write("uri,label_en,label_vi,variants_vi\n")
        handle.write("http://data.europa.eu/esco/skill/not-a-skill,x,kỹ năng,\n")
    with pytest.raises(DataFormatError, match=r"skills_vi_zz.csv:2"):
        load_taxonomy(settings.data_dir, project, tmp_path / "state")
