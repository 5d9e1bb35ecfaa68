"""What a programme card shows, in Vietnamese or English: the intake, contract, pay, costs, the
months of pay that cover the costs, and support, each fact saying whether anyone checked it."""

from __future__ import annotations

from matcher.programmes.rules import Cited, Programme, ProgrammeCatalog, Texts
from matcher.schemas import Lang, ProgrammeFact, ProgrammeSummary

_RECOVERY = {
    "vi": {
        "range": "Khoảng {lo}–{hi} tháng lương để bù chi phí",
        "one": "Khoảng {lo} tháng lương để bù chi phí",
        "under": "Dưới 1 tháng lương để bù chi phí",
        "basis": " (tính từ chi phí và mức lương ở trên, chưa trừ chi phí sinh hoạt)",
    },
    "en": {
        "range": "About {lo}–{hi} months of pay to cover the costs",
        "one": "About {lo} months of pay to cover the costs",
        "under": "Under a month of pay to cover the costs",
        "basis": " (from the costs and pay above, before living costs)",
    },
}


def cited_fact(catalog: ProgrammeCatalog, rule: Cited, text: str) -> ProgrammeFact:
    """A fact as a reader sees it: the text, whether it was checked, and where."""
    source = catalog.sources.get(rule.source)
    return ProgrammeFact(text=text, verified=rule.verified, checked=rule.checked,
                         source=rule.source,
                         url=rule.checked_url or (source.url if source else None))  # fmt: skip


def programme_card(catalog: ProgrammeCatalog, programme: Programme, lang: Lang) -> ProgrammeSummary:
    vi = lang == "vi"

    def fact(rule: Cited, text: str) -> ProgrammeFact:
        return cited_fact(catalog, rule, text)

    def texts(rule: Texts | None) -> ProgrammeFact | None:
        return None if rule is None else fact(rule, rule.text_vi if vi else rule.text_en)

    support = programme.support
    contract, costs = texts(programme.contract), texts(programme.costs)
    assert contract is not None and costs is not None
    return ProgrammeSummary(
        id=programme.id, name=programme.name_vi if vi else programme.name_en,
        country=programme.destination, intake=texts(programme.intake), contract=contract,
        pay=texts(programme.pay), costs=costs, recovery=recovery(programme, lang),
        support=fact(support, support.loans_vi if vi else support.loans_en),
        priority_groups=[(g.name_vi if vi else g.name_en) for g in catalog.priority_groups
                         if g.id in support.priority_groups],
        excludes=[(d.text_vi if vi else d.text_en) for d in programme.disqualifiers],
    )  # fmt: skip


def recovery(programme: Programme, lang: Lang) -> ProgrammeFact | None:
    """The months of pay that cover the costs, from the cheapest case (lowest costs, highest
    pay) to the dearest; verified only when both the costs and the pay were. ``None`` when
    the programme states no pay in VND."""
    pay, costs = programme.pay, programme.costs
    if pay is None or not pay.vnd_month_min or not pay.vnd_month_max:
        return None
    text = _RECOVERY[lang]
    lo, hi = costs.vnd_min / pay.vnd_month_max, costs.vnd_max / pay.vnd_month_min
    if hi < 1:
        said = text["under"]
    elif round(lo, 1) == round(hi, 1):
        said = text["one"].format(lo=_months(hi))
    else:
        said = text["range"].format(lo=_months(lo), hi=_months(hi))
    checked = [d for d in (pay.checked, costs.checked) if d]
    return ProgrammeFact(
        text=said + text["basis"], verified=pay.verified and costs.verified,
        checked=min(checked) if len(checked) == 2 else None, source=costs.source,
    )  # fmt: skip


def _months(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else f"{value:.0f}"
