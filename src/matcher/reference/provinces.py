"""Vietnam's provinces and centrally run cities, with their region (``data/provinces.csv``),
and, since 1 July 2025, their communes and the former provinces merged into them."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from matcher.text import fold, plain

_T = TypeVar("_T")


#: Where ``data/communes.csv`` and ``data/former_provinces.csv`` come from (details and
#: licence in ``data/SOURCES-communes.md``).
COMMUNES_SOURCE = (
    "github.com/dvhcvn/20250701 (MIT): GSO codes 1027/CTK-CSCL and the resolutions "
    "1654–1687/NQ-UBTVQH15 on the communes from 1 July 2025"
)


@dataclass(frozen=True)
class Province:
    name: str
    region: str
    weight: float


def _rows(project_data_dir: Path, name: str) -> list[dict[str, str]]:
    with (Path(project_data_dir) / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_provinces(project_data_dir: Path) -> list[Province]:
    rows = _rows(project_data_dir, "provinces.csv")
    return [Province(r["name"], r["region"], float(r["weight"])) for r in rows]


# --- Communes (xã / phường / đặc khu) and former provinces, after 1 July 2025 -----------------
#
# ``data/communes.csv`` lists the 3,321 commune-level units and ``data/former_provinces.csv`` the
# 63 provinces before the merger into 34 (see ``data/SOURCES-communes.md``). Names are matched
# by a key: Unicode NFC, case-folded, white space folded, typographic apostrophes as ``'``, dashes
# without spaces around them, and the tone mark of an open "oa", "oe" or "uy" put on the first
# vowel ("Hoà" and "Hòa" are two spellings of one syllable). Diacritics are never dropped from
# the key; input typed entirely without them is matched on a second, diacritic-free key, and only
# when exactly one place has that key.

_APOSTROPHES = re.compile(r"[\u2018\u2019\u02bc\u0060\u00b4]")
_DASH = re.compile(r"\s*[-\u2010-\u2015]\s*")
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_OLD_TONE_PLACEMENT = re.compile(rf"(o)([ae])([{_TONES}])(?!\w)|(u)(y)([{_TONES}])(?!\w)")
_PROVINCE_PREFIXES = ("tỉnh ", "thành phố ", "tp. ", "tp.", "tp ", "tinh ", "thanh pho ")
_COMMUNE_PREFIX = re.compile(r"^(?:xã|phường|đặc khu) ")


def _key(text: str) -> str:
    text = _DASH.sub("-", _APOSTROPHES.sub("'", fold(text)))
    decomposed = unicodedata.normalize("NFD", text)
    decomposed = _OLD_TONE_PLACEMENT.sub(
        lambda m: (
            "".join(g for g in (m[1], m[3], m[2]) if g)
            if m[1]
            else "".join(g for g in (m[4], m[6], m[5]) if g)
        ),
        decomposed,
    )
    return unicodedata.normalize("NFC", decomposed)


def _without_province_prefix(key: str) -> str:
    for prefix in _PROVINCE_PREFIXES:
        if key.startswith(prefix) and key[len(prefix) :].strip():
            return key[len(prefix) :].strip()
    return key


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    province: str


def load_communes(project_data_dir: Path) -> list[Commune]:
    rows = _rows(project_data_dir, "communes.csv")
    return [Commune(r["code"], r["name"], r["province"]) for r in rows]


def load_former_provinces(project_data_dir: Path) -> dict[str, str]:
    """Former province (before 1 July 2025) → the current province it is part of."""
    return {r["former"]: r["province"] for r in _rows(project_data_dir, "former_provinces.csv")}


def _unique(found: set[_T] | None) -> _T | None:
    return next(iter(found)) if found and len(found) == 1 else None


class Places:
    """The 34 provinces, their communes and the 63 former provinces, looked up by name."""

    def __init__(
        self,
        provinces: list[Province],
        communes: list[Commune],
        former_provinces: dict[str, str],
    ) -> None:
        self.provinces = list(provinces)
        self.communes = list(communes)
        self.former_provinces = dict(former_provinces)
        current = {p.name for p in self.provinces}
        unknown = {c.province for c in self.communes} - current
        unknown |= set(self.former_provinces.values()) - current
        if unknown:
            raise ValueError(f"places in no known province: {sorted(unknown)}")

        # key -> (current, former or None); current names win over former ones.
        self._province: dict[str, tuple[str, str | None]] = {}
        self._province_plain: dict[str, set[tuple[str, str | None]]] = {}
        entries: list[tuple[str, tuple[str, str | None]]] = [
            *((name, (name, None)) for name in sorted(current)),
            *(
                (former, (now, None if former == now else former))
                for former, now in sorted(self.former_provinces.items())
            ),
        ]
        for name, result in entries:
            for key in {_key(name), _without_province_prefix(_key(name))}:
                self._province.setdefault(key, result)
                self._province_plain.setdefault(plain(key), set()).add(result)

        self._by_province: dict[str, list[Commune]] = {name: [] for name in current}
        # (province, key) -> communes, for the full name and for the name without its prefix,
        # each also diacritic-free.
        self._full: dict[tuple[str, str], set[Commune]] = {}
        self._bare: dict[tuple[str, str], set[Commune]] = {}
        self._full_plain: dict[tuple[str, str], set[Commune]] = {}
        self._bare_plain: dict[tuple[str, str], set[Commune]] = {}
        for commune in self.communes:
            self._by_province[commune.province].append(commune)
            full = _key(commune.name)
            bare = _COMMUNE_PREFIX.sub("", full)
            for index, key in (
                (self._full, full),
                (self._bare, bare),
                (self._full_plain, plain(full)),
                (self._bare_plain, plain(bare)),
            ):
                index.setdefault((commune.province, key), set()).add(commune)

    def resolve_province(self, name: str) -> tuple[str, str | None] | None:
        """``(current province, former province or None)`` for a name a user typed, e.g.
        ``"tỉnh Bắc Giang"`` → ``("Bắc Ninh", "Bắc Giang")``, ``"Hà Nội"`` → ``("Hà Nội",
        None)``; ``None`` when the name is unknown (or, typed without diacritics, ambiguous)."""
        key = _key(name).strip()
        if not key:
            return None
        for candidate in (key, _without_province_prefix(key)):
            if candidate in self._province:
                return self._province[candidate]
        if plain(key) != key:  # typed with diacritics: no guessing
            return None
        for candidate in (key, _without_province_prefix(key)):
            if candidate in self._province_plain:
                return _unique(self._province_plain[candidate])
        return None

    def _current(self, province: str) -> str | None:
        resolved = self.resolve_province(province)
        return resolved[0] if resolved and resolved[1] is None else None

    def communes_of(self, province: str) -> list[Commune]:
        """The communes of a current province (any spelling :meth:`resolve_province` accepts
        for it); ``[]`` for an unknown or former province."""
        current = self._current(province)
        return list(self._by_province[current]) if current else []

    def commune(self, province: str, name: str) -> Commune | None:
        """The commune of the current ``province`` called ``name``, with or without its
        "Xã"/"Phường"/"Đặc khu" prefix; ``None`` when there is none or the name is ambiguous."""
        current = self._current(province)
        key = _key(name).strip()
        if current is None or not key:
            return None
        for index in (self._full, self._bare):
            if (current, key) in index:
                return _unique(index[(current, key)])
        if plain(key) != key:
            return None
        for index in (self._full_plain, self._bare_plain):
            if (current, key) in index:
                return _unique(index[(current, key)])
        return None


def load_places(project_data_dir: Path) -> Places:
    return Places(
        load_provinces(project_data_dir),
        load_communes(project_data_dir),
        load_former_provinces(project_data_dir),
    )
