"""The public-sector position map: real data file, real ESCO."""

from __future__ import annotations

import shutil

import pytest

from matcher.errors import DataFormatError
from matcher.reference.positions import POSITIONS_FILE, load_positions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def positions(service):
    return service.positions


def test_the_map_covers_the_positions_people_come_from(positions):
    assert len(positions) >= 60
    names = {p.name_vi for p in positions.positions.values()}
    for expected in ("chuyên viên", "chuyên viên chính", "cán sự", "kế toán viên", "văn thư viên",
                     "thanh tra viên", "giáo viên mầm non", "giáo viên tiểu học", "điều dưỡng",
                     "hộ sinh", "y sĩ", "dược sĩ"):  # fmt: skip
        assert any(name.startswith(expected) for name in names), expected
    for position in positions.positions.values():
        assert position.duties_source and position.occupation_uris
        assert 1 <= position.skill_level <= 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nguyên chuyên viên phòng nội vụ huyện", "chuyen-vien-phong-noi-vu"),
        ("Nguyen chuyen vien phong noi vu huyen", "chuyen-vien-phong-noi-vu"),  # no diacritics
        ("Tôi từng là giáo viên tiểu học ở Nghệ An", "giao-vien-tieu-hoc"),
        ("chuyên viên", "chuyen-vien"),
        ("công chức tư pháp - hộ tịch xã", "cong-chuc-tu-phap-ho-tich"),
    ],
)
def test_free_text_resolves_to_the_longest_matching_position(positions, text, expected):
    found = positions.resolve(text)
    assert found is not None and found.position.id == expected


def test_unrelated_text_does_not_resolve(positions):
    assert positions.resolve("software developer in Ho Chi Minh City") is None


def test_a_broken_map_names_file_and_line(service, tmp_path):
    shutil.copytree(service.settings.project_data_dir, tmp_path / "data")
    path = tmp_path / "data" / POSITIONS_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("http://data.europa.eu/esco/occupation/", "http://x/", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=rf"{POSITIONS_FILE}:4: not an ESCO occupation"):
        load_positions(tmp_path / "data", service.taxonomy)
