"""Typical monthly pay per destination country and sector (``data/pay_reference.csv``, its
sources in ``data/SOURCES-pay.md``): the yardstick of the ``unrealistic_pay`` signal."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

PAY_FILE = "pay_reference.csv"
#: a title that names no sector is judged against the country's best-paid sector only where
#: the table has at least this many of its sectors
FALLBACK_SECTORS = 3

#: words of a posting's title that name its sector (unaccented)
SECTORS = {
    "manufacturing": r"nha may|cong nhan|san xuat|xuong|lap rap|dien tu|co khi|\bhan\b|tho han|"
    r"cnc|det may|may mac|dong goi|kho\b|thuc pham|factory|assembl|manufactur|welder|welding|"
    r"sewing|packing|packag|warehouse|machine|food processing",
    "construction": r"xay dung|cop pha|thep|cot thep|ne\b|giao thong|construction|carpenter|"
    r"scaffold|rebar|mason|builder",
    "agriculture": r"nong nghiep|trang trai|thu hoach|hai (qua|rau|dau|nho)|chan nuoi|rau|"
    r"trong trot|farm|harvest|picking|picker|fruit|vegetable|livestock|agricultur|horticultur",
    "fishery": r"ngu nghiep|tau ca|danh bat|thuy san|nuoi trong|fishing|fishery|fisheries|"
    r"aquacultur|seafood",
    "care": r"dieu duong|cham soc|ho ly|khan ho|nguoi cao tuoi|nurse|nursing|care|caregiver",
    "hospitality": r"nha hang|khach san|phu bep|bep|phuc vu|restaurant|hotel|kitchen|chef|cook",
    "office": r"van phong|nhap lieu|cskh|cham soc khach hang|ke toan|telesale|typist|data entry|"
    r"customer service|office|admin|clerk",
}
_SECTORS = {name: re.compile(pattern) for name, pattern in SECTORS.items()}


@dataclass(frozen=True)
class PayBand:
    country: str
    sector: str
    vnd_month_min: int
    vnd_month_max: int
    basis: str
    source_url: str
    verified: bool


class PayTable:
    def __init__(self, bands: list[PayBand]) -> None:
        self.bands = bands

    def band(self, country: str, title_skeleton: str) -> PayBand | None:
        """The band for the posting's country and the sector its title names; else, where
        the table covers enough of the country's sectors, its highest-paid one (so only pay far
        above any of them counts). Minimum-wage rows (``any``) are floors, never bands."""
        rows = [b for b in self.bands if b.country == country and b.sector != "any"]
        for name, pattern in _SECTORS.items():
            if pattern.search(title_skeleton):
                named = [b for b in rows if b.sector == name]
                if named:
                    return max(named, key=lambda b: b.vnd_month_max)
        if len({b.sector for b in rows}) < FALLBACK_SECTORS:
            return None
        return max(rows, key=lambda b: b.vnd_month_max)

    def floor(self, country: str) -> int | None:
        """The country's highest statutory minimum monthly wage in the table (``any`` rows)."""
        rows = [b.vnd_month_max for b in self.bands if b.country == country and b.sector == "any"]
        return max(rows) if rows else None


def load_pay(data_dir: Path) -> PayTable:
    path = data_dir / PAY_FILE
    if not path.exists():
        return PayTable([])
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    bands = []
    for row in rows:
        try:
            low, high = int(row["vnd_month_min"]), int(row["vnd_month_max"])
        except (KeyError, ValueError):
            continue
        bands.append(PayBand(row["country"].strip().upper(), row["sector"].strip(), low, high,
                             row.get("basis", ""), row.get("source_url", ""),
                             row.get("verified", "").strip().lower() == "true"))  # fmt: skip
    return PayTable(bands)
