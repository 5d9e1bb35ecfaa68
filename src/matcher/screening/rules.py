"""The screening rules: transparent patterns over a posting's text, each finding a signal with
the words that show it (its evidence span), in Vietnamese or English, with or without
diacritics.

The signals and what they mean come from the public warnings of the overseas-labour
authorities, the provinces and press reports of cases (``data/screening_signals.yaml``); the
labelling guideline written before these rules is ``data/scam-eval/GUIDELINE.md``, and the rules
were tuned on the set's dev split only (``matcher evaluate --scams dev``; docs/evaluation.md).

The words are in :mod:`matcher.screening.patterns`; they run over the text's *skeleton*
(:func:`matcher.screening.money.skeleton`): lower case, no diacritics, the same length as the
text, so a match's span is the original words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from matcher.screening.money import RATES, Amount, amounts, contract_months, skeleton
from matcher.screening.patterns import (
    ADDRESS,
    ANY_PROVINCE,
    AT_HOME,
    BORDER_ZONES,
    BROKERAGE,
    BYPASS,
    CLAIM,
    DAY_PAY_LIMIT,
    DEPOSIT,
    DESK,
    DESK_LURE_VND,
    DOMESTIC_FEE,
    FEE,
    FREE_MAIL,
    GUARANTEE,
    LAWFUL_DEPOSIT,
    MESSAGING,
    NEGATED,
    NO_EXPERIENCE,
    PAID_AFTER,
    PAY,
    PAY_TIMES,
    PERSONAL_COST,
    PUBLIC_BODY,
    SERVICE_FEE,
    STATE_PROGRAMME,
    TASK,
    UNOFFICIAL,
    UNREALISTIC,
    UNSKILLED_TIMES,
    WEB,
)
from matcher.screening.pay import PayTable
from matcher.screening.registry import Registry
from matcher.screening.signals import Commercial, Screening, Signal, SignalBook, held


@dataclass(frozen=True)
class Posting:
    """What screening reads of a posting."""

    title: str
    description: str = ""
    employer: str | None = None
    country: str = "VN"
    programme: str | None = None
    salary_min: int | None = None
    salary_max: int | None = None
    currency: str = "VND"


def clauses(skel: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each clause: split at sentence ends, semicolons, bullets, lines
    (a dot inside a number is not a sentence end)."""
    bounds, start = [], 0
    for m in re.finditer(r"(?<!\d)[.!?](?!\d)|[;\n•|]|(?<=\d)\.(?=\s)|\s[-–]\s", skel):
        if m.start() > start:
            bounds.append((start, m.start()))
        start = m.end()
    if start < len(skel):
        bounds.append((start, len(skel)))
    return bounds


@dataclass
class _Text:
    """One field of a posting: its text and skeleton, and its clauses."""

    field: str
    text: str

    def __post_init__(self) -> None:
        self.skel = skeleton(self.text)
        self.parts = clauses(self.skel)

    def clause(self, position: int) -> tuple[int, int]:
        for start, end in self.parts:
            if start <= position < end:
                return start, end
        return 0, len(self.skel)

    def find(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        yield from pattern.finditer(self.skel)

    def negated(self, match: re.Match[str], window: int = 25) -> bool:
        start, _ = self.clause(match.start())
        before = self.skel[max(start, match.start() - window) : match.start()]
        return bool(NEGATED.search(before))


class Screener:
    """Screens postings against the rules, the registry of licensed enterprises and the pay
    table; the same object screens the API's writes and the evaluation set."""

    def __init__(self, book: SignalBook, registry: Registry, pay: PayTable) -> None:
        self.book = book
        self.registry = registry
        self.pay = pay

    def signal(self, code: str, where: _Text, start: int | None = None, end: int | None = None,
               evidence: str | None = None) -> Signal:  # fmt: skip
        kind = self.book.signals[code]
        quoted = evidence if evidence is not None else where.text[start:end]
        return Signal(code=code, strength=kind.strength, field=where.field,  # type: ignore[arg-type]
                      evidence=quoted.strip()[:200], start=start, end=end, message_vi=kind.vi,
                      message_en=kind.en, source=kind.sources[0] if kind.sources else None)  # fmt: skip

    def screen(self, posting: Posting, *, operator: bool = False) -> Screening:
        """The signals ``posting`` shows, whether they hold it for review, and whether it
        comes from a licensed enterprise (``commercial``). ``operator``: the poster runs a
        state programme (its account is registered as an operator)."""
        title = _Text("title", posting.title)
        body = _Text("description", posting.description or "")
        employer = _Text("employer", posting.employer or "")
        texts = [title, body]
        overseas = posting.country.upper() != "VN"
        found: dict[str, Signal] = {}

        def add(signal: Signal | None) -> None:
            if signal is not None and signal.code not in found:
                found[signal.code] = signal

        add(self._first(texts, GUARANTEE, "guaranteed_outcome"))
        add(self._first(texts, TASK, "task_deposit"))
        if not operator:  # a programme's own deposit (EPS, seasonal work) is set by the State
            add(self._deposit(texts, overseas))
        add(self._first(texts, BYPASS, "bypass_selection"))
        if overseas and posting.country.upper() == "KR":
            add(self._seasonal_any_province(texts))
        add(self._first(texts, UNOFFICIAL, "unofficial_route"))
        if posting.country.upper() in BORDER_ZONES:
            add(self._first([title, body], DESK, "unofficial_route"))
        match = self.registry.match(posting.employer, f"{posting.title}\n{posting.description}")
        commercial = None
        if not operator:
            add(self._impersonation(employer, texts))
            add(self._programme_fee(texts))
            if match is not None and match.kind == "lookalike":
                where = employer if match.evidence in (posting.employer or "") else body
                add(self.signal("lookalike_employer", where, evidence=
                                f"{match.evidence} ≠ {match.enterprise.name}"
                                + (f" ({match.enterprise.website})" if match.enterprise.website else "")))  # fmt: skip
            elif match is not None and match.kind == "revoked" and overseas:
                add(self.signal("revoked_licence", employer, 0, len(employer.text)))
            if overseas:
                add(self._over_ceiling(posting, texts))
                if match is None:
                    add(self.signal("unlicensed_overseas", employer if posting.employer else title,
                                    evidence=posting.employer or "—"))  # fmt: skip
        if match is not None and match.kind == "licensed" and overseas and not operator:
            ceiling = self.book.fee_ceiling
            commercial = Commercial(
                enterprise=match.enterprise.name, registry_status=match.enterprise.status,
                registry_source=match.enterprise.source_url, fee_ceiling_vi=ceiling.vi,
                fee_ceiling_en=ceiling.en, law=ceiling.law, source=ceiling.source,
                verified=ceiling.verified,
            )  # fmt: skip
        add(self._private_contact(texts, employer))
        add(self._unrealistic_pay(posting, title, body))
        signals = list(found.values())
        return Screening(signals=signals, held=held(signals), commercial=commercial)

    # ------------------------------------------------------------------ single rules
    def _first(self, texts: list[_Text], pattern: re.Pattern[str], code: str) -> Signal | None:
        for text in texts:
            for m in text.find(pattern):
                if not text.negated(m, 12):
                    return self.signal(code, text, m.start(), m.end())
        return None

    def _deposit(self, texts: list[_Text], overseas: bool) -> Signal | None:
        patterns = [DEPOSIT] if overseas else [DEPOSIT, DOMESTIC_FEE]
        for pattern in patterns:
            for text in texts:
                for m in text.find(pattern):
                    if text.negated(m, 45):
                        continue
                    start, end = text.clause(m.start())
                    clause = text.skel[start:end]
                    # the deposit an employer pays, or the lawful EPS deposit at the state bank
                    if LAWFUL_DEPOSIT.search(clause) or PAID_AFTER.search(clause):
                        continue
                    return self.signal("upfront_deposit", text, m.start(), m.end())
        return None

    def _seasonal_any_province(self, texts: list[_Text]) -> Signal | None:
        if not any(re.search(r"thoi vu|e-?8\b|seasonal", t.skel) for t in texts):
            return None
        return self._first(texts, ANY_PROVINCE, "bypass_selection")

    def _impersonation(self, employer: _Text, texts: list[_Text]) -> Signal | None:
        for m in employer.find(PUBLIC_BODY):
            if not employer.negated(m):
                return self.signal("programme_impersonation", employer, m.start(), m.end())
        for text in texts:
            for pattern in (PUBLIC_BODY, STATE_PROGRAMME):
                for m in text.find(pattern):
                    start, end = text.clause(m.start())
                    clause = text.skel[start:end]
                    if text.field == "title" or CLAIM.search(clause):
                        if NEGATED.search(clause):
                            continue
                        return self.signal("programme_impersonation", text, m.start(), m.end())
        return None

    def _programme_fee(self, texts: list[_Text]) -> Signal | None:
        """Money asked for a state programme by a non-operator (personal costs the programme
        lists, such as the test fee or the passport, excepted)."""
        if not any(any(t.find(STATE_PROGRAMME)) for t in texts):
            return None
        for text in texts:
            for amount in amounts(text.skel):
                start, end = text.clause(amount.start)
                before = text.skel[start : amount.start]
                fee = _last(FEE, before)
                pay = _last(PAY, before)
                if fee is None or (pay is not None and pay > fee):
                    continue
                clause = text.skel[start:end]
                if PERSONAL_COST.search(clause) and not re.search(
                    r"tron goi|dich vu|moi gioi|ho tro ho so|coc|package|service|processing", clause
                ):
                    continue
                if NEGATED.search(text.skel[max(start, amount.start - 30) : amount.start]):
                    continue
                return self.signal("state_programme_fee", text, start + fee, amount.end)
        return None

    def _over_ceiling(self, posting: Posting, texts: list[_Text]) -> Signal | None:
        for text in texts:
            for m in text.find(BROKERAGE):
                if not text.negated(m, 20):
                    return self.signal("fee_over_ceiling", text, m.start(), m.end())
        monthly = _monthly_pay(posting, texts)
        if monthly is None:
            band = self.pay.band(posting.country.upper(), skeleton(posting.title))
            monthly = band.vnd_month_max if band else None
        if not monthly:
            return None
        for text in texts:
            months = contract_months(text.skel) or 36
            allowed = monthly * min(3.0, max(1.0, months / 12))
            for amount in amounts(text.skel):
                start, _ = text.clause(amount.start)
                before = text.skel[start : amount.start]
                fee = _last(SERVICE_FEE, before)
                pay = _last(PAY, before)
                if fee is None or (pay is not None and pay > fee) or amount.per:
                    continue
                if amount.vnd > allowed * 1.05:
                    return self.signal("fee_over_ceiling", text, start + fee, amount.end)
        return None

    def _private_contact(self, texts: list[_Text], employer: _Text) -> Signal | None:
        every = texts + [employer]
        if any(any(t.find(ADDRESS)) for t in every):
            return None
        for text in every:
            for m in text.find(WEB):
                if not FREE_MAIL.search(text.skel[max(0, m.start() - 1) : m.end() + 1]):
                    return None
        for text in texts:
            for m in text.find(MESSAGING):
                return self.signal("private_contact_only", text, m.start(), m.end())
        return None

    def _unrealistic_pay(self, posting: Posting, title: _Text, body: _Text) -> Signal | None:
        found = self._first([title, body], UNREALISTIC, "unrealistic_pay")
        if found:
            return found
        for text in (title, body):
            for amount in amounts(text.skel):
                if amount.per != "day" or amount.vnd < DAY_PAY_LIMIT:
                    continue
                start, end = text.clause(amount.start)
                if AT_HOME.search(text.skel[start:end]) or AT_HOME.search(title.skel):
                    return self.signal("unrealistic_pay", text, amount.start, amount.end)
        country = posting.country.upper()
        monthly = _monthly_pay(posting, [title, body], top=True)
        if monthly is None:
            return None
        where = _Text("salary", _salary_words(posting)) if posting.salary_max else body
        shown = where.text if posting.salary_max else ""
        if (
            country in BORDER_ZONES
            and monthly >= DESK_LURE_VND
            and any(any(t.find(DESK)) for t in (title, body))
        ):  # the S44-S46 lure: desk work near the border at 800-1,500 USD
            return self.signal("unrealistic_pay", where, evidence=f"{shown} ({country})".strip())
        if country == "VN":
            floor = self.pay.floor("VN")
            unskilled = any(any(t.find(NO_EXPERIENCE)) for t in (title, body))
            if floor and unskilled and monthly > UNSKILLED_TIMES * floor:
                return self.signal("unrealistic_pay", where, evidence=f"{shown} > "
                                   f"{UNSKILLED_TIMES} × {floor:,} VND".strip())  # fmt: skip
            return None
        band = self.pay.band(country, title.skel)
        if band is None or monthly <= PAY_TIMES * band.vnd_month_max:
            return None
        return self.signal(
            "unrealistic_pay", where,
            evidence=f"{shown} > {PAY_TIMES} × {band.vnd_month_max:,} VND ({band.country}, "
            f"{band.sector})".strip(),
        )  # fmt: skip


def _last(pattern: re.Pattern[str], text: str) -> int | None:
    """Where the last match of ``pattern`` in ``text`` starts."""
    last = None
    for m in pattern.finditer(text):
        last = m.start()
    return last


def _salary_words(posting: Posting) -> str:
    low, high = posting.salary_min, posting.salary_max
    shown = f"{low:,}–{high:,}" if low and high and low != high else f"{high or low:,}"
    return f"{shown} {posting.currency}"


def _monthly_pay(posting: Posting, texts: list[_Text], *, top: bool = False) -> float | None:
    """The monthly pay in VND: from the salary fields, else the largest per-month amount the
    text names after a pay word; the midpoint, or the top with ``top``."""
    rate = RATES.get(posting.currency.upper())
    if rate and (posting.salary_min or posting.salary_max):
        low = posting.salary_min or posting.salary_max or 0
        high = posting.salary_max or posting.salary_min or 0
        return (high if top else (low + high) / 2) * rate
    best: Amount | None = None
    for text in texts:
        for amount in amounts(text.skel):
            start, _ = text.clause(amount.start)
            before = text.skel[start : amount.start]
            pay, fee = _last(PAY, before), _last(FEE, before)
            if pay is None or (fee is not None and fee > pay) or amount.per in ("day", "hour"):
                continue
            if best is None or amount.vnd > best.vnd:
                best = amount
    return best.vnd if best else None
