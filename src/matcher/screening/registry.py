"""The registry of enterprises licensed to send workers abroad (``data/licensed_enterprises.csv``,
its sources and completeness in ``data/SOURCES-licensed-enterprises.md``).

A posting's employer is matched by the *distinctive part* of its name: what is left once the
legal form and the words every labour-export company uses are taken out ("Công ty CP Cung ứng
Nhân lực Hồng Lam" → ``hong lam``), in Vietnamese or English, with or without diacritics. The
same part with a different website, or a name one or two letters away from a registered one, is
a look-alike: the impersonation the authorities warn about (halsuco.vn against the registered
halsucohanoi.vn).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from matcher.text import plain

REGISTRY_FILE = "licensed_enterprises.csv"

#: legal forms and the phrases most labour-export companies' names share (vi and en, unaccented)
_GENERIC_PHRASES = """
    cong ty, tong cong ty, co phan, trach nhiem huu han, mot thanh vien, hai thanh vien,
    chi nhanh, van phong dai dien, nhan luc, cung ung, lao dong, hop tac, quoc te, phat trien,
    dich vu, thuong mai, dau tu, xuat nhap khau, xuat khau, dao tao, giao duc, tu van, viec lam,
    ngoai nuoc, xay dung, ky thuat, cong nghe, du lich, tap doan, viet nam, joint stock,
    human resources, human resource
"""
_GENERIC_WORDS = """
    cp ctcp tnhh mtv xnk va group holdings jsc co ltd llc corp corporation company inc limited
    manpower labour labor supply international development service services trading
    investment export resources resource hr recruitment cooperation the of and vn
"""
_PHRASES = re.compile(r"\b(?:" + "|".join(p.strip() for p in _GENERIC_PHRASES.split(",")) + r")\b")
GENERIC = frozenset(_GENERIC_WORDS.split())
_DOMAIN = re.compile(
    r"\b((?:[a-z0-9][a-z0-9-]*\.)+(?:com\.vn|vn|com|net|org|jp|kr|tw|de|asia|info))\b"
)
_FREE_MAIL = ("gmail.", "yahoo.", "hotmail.", "outlook.", "facebook.", "zalo.", "tiktok.", "t.me")


@dataclass(frozen=True)
class Enterprise:
    name: str
    short_name: str
    licence_no: str
    website: str
    province: str
    status: Literal["listed_active", "revoked"]
    source_url: str
    checked: str

    @property
    def core(self) -> str:
        return core(self.name)


@dataclass(frozen=True)
class Match:
    """How a posting's employer relates to the registry: ``licensed`` (same enterprise),
    ``revoked``, or ``lookalike`` (close to one, but not it); ``evidence`` is the text that
    shows it."""

    kind: Literal["licensed", "revoked", "lookalike"]
    enterprise: Enterprise
    evidence: str


def core(name: str) -> str:
    """The distinctive words of a company name, unaccented: ``"Hồng Lam HR Group"`` →
    ``"hong lam"``."""
    text = re.sub(r"\([^)]*\)", " ", plain(name))  # "(Hồng Lam HR)", "(honglam-hr.com)"
    text = _PHRASES.sub(" ", _DOMAIN.sub(" ", text))
    tokens = re.findall(r"[a-z0-9]+", text)
    return " ".join(t for t in tokens if t not in GENERIC)


def domains(text: str) -> list[str]:
    """Company web addresses in ``text`` (free mail and social sites left out)."""
    found = (d.removeprefix("www.") for d in _DOMAIN.findall(plain(text)))
    return [d for d in dict.fromkeys(found) if not d.startswith(_FREE_MAIL) and "@" not in d]


def _label(domain: str) -> str:
    """``halsuco.com.vn`` → ``halsuco``; ``honglam-hr.com`` → ``honglamhr``."""
    return domain.split(".")[0].replace("-", "")


def _near(a: str, b: str) -> bool:
    """One edit apart (two for long names), or one a prefix of the other (a word added)."""
    if a == b or min(len(a), len(b)) < 5:
        return False
    if a.replace(" ", "") == b.replace(" ", ""):
        return True
    if abs(len(a) - len(b)) > 2:
        return False
    limit = 2 if min(len(a), len(b)) >= 10 else 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] <= limit


class Registry:
    """Licensed (and revoked) enterprises, looked up by name and website."""

    def __init__(self, enterprises: list[Enterprise], *, source: str = "") -> None:
        self.enterprises = enterprises
        self.source = source
        # a distinctive part that is short, or that two enterprises share, identifies nobody
        owners: dict[str, set[int]] = {}
        for number, enterprise in enumerate(enterprises):
            for key in {enterprise.core, core(enterprise.short_name)}:
                if len(key.replace(" ", "")) >= 4:
                    owners.setdefault(key, set()).add(number)
        self._by_core = {k: enterprises[min(v)] for k, v in owners.items() if len(v) == 1}
        self._by_label = {_label(e.website): e for e in enterprises if e.website}

    def __len__(self) -> int:
        return len(self.enterprises)

    def match(self, employer: str | None, text: str = "") -> Match | None:
        """The registry's view of a posting by ``employer`` whose text is ``text``: the
        enterprise it is (``licensed``/``revoked``), or the one it imitates (``lookalike``)."""
        for domain in domains(f"{employer or ''} {text}"):
            label = _label(domain)
            for registered, enterprise in self._by_label.items():
                if domain == enterprise.website:
                    continue
                if label == registered or _near(label, registered) or (
                    min(len(label), len(registered)) >= 5
                    and (registered.startswith(label) or label.startswith(registered))
                ):  # fmt: skip
                    return Match("lookalike", enterprise, domain)
        key = core(employer or "")
        same = self._by_core.get(key)
        if same is not None:
            kind: Literal["licensed", "revoked"] = (
                "revoked" if same.status == "revoked" else "licensed"
            )
            return Match(kind, same, employer or "")
        if len(key) >= 6:
            for other, enterprise in self._by_core.items():
                if len(other) >= 6 and _near(key, other):
                    return Match("lookalike", enterprise, employer or "")
        return None


def load_registry(path: Path) -> Registry:
    """Read a registry file (``data/licensed_enterprises.csv`` or an evaluation set's own)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    enterprises = [
        Enterprise(
            name=row["name"].strip(),
            short_name=(row.get("short_name") or "").strip(),
            licence_no=(row.get("licence_no") or "").strip(),
            website=(row.get("website") or "").strip().lower().removeprefix("www."),
            province=(row.get("province") or "").strip(),
            status="revoked" if row.get("status") == "revoked" else "listed_active",
            source_url=(row.get("source_url") or "").strip(),
            checked=(row.get("checked") or "").strip(),
        )
        for row in rows
        if (row.get("name") or "").strip()
    ]
    return Registry(enterprises, source=str(path))
