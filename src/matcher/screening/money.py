"""Amounts of money and contract lengths as postings write them, in Vietnamese or English:
"180 triệu", "180tr", "180.000.000đ", "5.000 USD", "$5,000", "2,000 EUR", "300k", "15 man"
(10,000 yen). Amounts are compared in VND at rough rates: good enough to tell a 5,000 USD
deposit from a 28 USD test fee, not for accounting.

Every position is in the *skeleton* of the text (:func:`skeleton`): lower case, without
diacritics, one character for each character of the original, so a match is also the span of
the original text to quote as evidence.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from matcher.text import plain

#: VND per unit: the rates data/pay_reference.csv uses (data/SOURCES-pay.md: Vietcombank
#: mid-rates of 25 Nov 2025 for USD, EUR and JPY; the others derived or assumed there)
RATES = {"VND": 1, "USD": 26_300, "EUR": 30_400, "JPY": 167.5, "KRW": 18, "TWD": 860,
         "AUD": 17_200, "MYR": 6_200, "PLN": 7_200, "RON": 6_000, "SAR": 7_000,
         "GBP": 35_000, "CNY": 3_700, "SGD": 20_300}  # fmt: skip


@functools.lru_cache(maxsize=8192)
def _one(char: str) -> str:
    """One character of :func:`matcher.text.plain` (white space stays a space)."""
    return plain(char)[:1] or " "


def skeleton(text: str) -> str:
    """``text`` lower-cased without diacritics, same length: ``"Đặt cọc"`` → ``"dat coc"``."""
    return "".join(_one(c) for c in text)


_NUMBER = r"\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?"
_UNIT = (
    r"trieu\b|tr\b|ty\b|ti\b|k\b|nghin\b|ngan\b|dong\b|d\b|vnd\b|usd\b|\$|eur\b|euro\b|€|"
    r"yen\b|jpy\b|¥|man\b|won\b|krw\b|ntd\b|twd\b|nt\$|dai te\b|aud\b|million\b|m\b|"
    r"gbp\b|£|cny\b|te\b|rm\b|myr\b|sgd\b"
)
AMOUNT = re.compile(
    rf"(?:(?P<pre>usd|us\$|\$|eur|€|¥|£|aud|nt\$)\s?(?P<pnum>{_NUMBER}))"
    rf"|(?:(?P<num>{_NUMBER})\s?(?P<unit>{_UNIT}))"
)
_UNITS = {
    "trieu": ("VND", 1e6), "tr": ("VND", 1e6), "million": ("VND", 1e6), "m": ("VND", 1e6),
    "ty": ("VND", 1e9), "ti": ("VND", 1e9), "k": ("VND", 1e3), "nghin": ("VND", 1e3),
    "ngan": ("VND", 1e3), "dong": ("VND", 1), "d": ("VND", 1), "vnd": ("VND", 1),
    "usd": ("USD", 1), "us$": ("USD", 1), "$": ("USD", 1), "eur": ("EUR", 1),
    "euro": ("EUR", 1), "€": ("EUR", 1), "yen": ("JPY", 1), "jpy": ("JPY", 1), "¥": ("JPY", 1),
    "man": ("JPY", 1e4), "won": ("KRW", 1), "krw": ("KRW", 1), "ntd": ("TWD", 1),
    "twd": ("TWD", 1), "nt$": ("TWD", 1), "dai te": ("TWD", 1), "te": ("TWD", 1),
    "aud": ("AUD", 1), "gbp": ("GBP", 1), "£": ("GBP", 1), "cny": ("CNY", 1),
    "rm": ("MYR", 1), "myr": ("MYR", 1), "sgd": ("SGD", 1),
}  # fmt: skip


@dataclass(frozen=True)
class Amount:
    vnd: float
    currency: str
    start: int
    end: int
    per: str | None  # "month", "day", "hour" or None


def _number(text: str) -> float:
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", text):
        return float(re.sub(r"[.,]", "", text))
    return float(text.replace(",", "."))


_PER = re.compile(r"\s?(?:/|mot|moi|per|a|each)\s?(thang|month|mo|ngay|day|gio|hour|h)\b")


def amounts(skel: str) -> list[Amount]:
    """Every amount in a skeleton text, in VND, with what it is per (month, day, hour)."""
    found = []
    for m in AMOUNT.finditer(skel):
        unit, number = (m["pre"], m["pnum"]) if m["pre"] else (m["unit"], m["num"])
        currency, factor = _UNITS[unit.strip()]
        try:
            value = _number(number) * factor
        except ValueError:
            continue
        if currency == "VND" and factor == 1 and value < 1000:  # "3 d" is not money
            continue
        per_match = _PER.match(skel, m.end())
        per = None
        if per_match:
            word = per_match[1]
            per = ("month" if word in ("thang", "month", "mo") else
                   "day" if word in ("ngay", "day") else "hour")  # fmt: skip
        found.append(Amount(value * RATES[currency], currency, m.start(), m.end(), per))
    return found


_CONTRACT = re.compile(
    r"(?:hop dong|hd|contract|thoi han)\D{0,20}?(\d+(?:[.,]5)?)\s?(nam|year|years|thang|month|months)"
    r"|(\d+(?:[.,]5)?)[- ]?(year|years|nam|thang|month|months)[- ](?:contract|hop dong)"
)


def contract_months(skel: str) -> int | None:
    """The contract length a posting states, in months (``"hợp đồng 3 năm"`` → 36)."""
    m = _CONTRACT.search(skel)
    if not m:
        return None
    number, unit = (m[1], m[2]) if m[1] else (m[3], m[4])
    value = float(number.replace(",", "."))
    return round(value * 12) if unit in ("nam", "year", "years") else round(value)
