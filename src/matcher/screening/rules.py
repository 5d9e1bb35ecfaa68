"""The screening rules: transparent patterns over a posting's text, each finding a signal with
the words that show it (its evidence span), in Vietnamese or English, with or without
diacritics.

The signals and what they mean come from the public warnings of the overseas-labour
authorities, the provinces and press reports of cases (``data/screening_signals.yaml``); the
labelling guideline written before these rules is ``data/scam-eval/GUIDELINE.md``, and the rules
were tuned on the set's dev split only (``matcher evaluate scams``; docs/evaluation.md).

Patterns run over the text's *skeleton* (:func:`matcher.screening.money.skeleton`): lower case,
no diacritics, the same length as the text, so a match's span is the original words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from matcher.screening.money import RATES, Amount, amounts, contract_months, skeleton
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


def _any(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words))


# ---------------------------------------------------------------------------- vocabulary
#: a state programme or public body by name (who may use the names: its operator only)
PUBLIC_BODY = _any(
    r"\bbo noi vu\b", r"\bbo (?:ld|lao dong)[- ]?(?:tb|thuong binh)", r"\bbo lao dong\b",
    r"\btrung tam lao dong ngoai nuoc\b", r"\bcolab\b", r"\bcuc quan ly lao dong ngoai nuoc\b",
    r"\bdolab\b", r"\bdai su quan\b", r"\bembassy\b", r"\bgiz\b", r"\btriple win\b",
    r"\bhrd korea\b", r"\bministry of (?:home affairs|labou?r)\b", r"\bso noi vu\b",
    r"\bcentre of overseas labou?r\b", r"\bcenter of overseas labou?r\b",
)  # fmt: skip
STATE_PROGRAMME = _any(
    r"\beps\b", r"\be-?9\b", r"\bim japan\b", r"\bimm japan\b", r"\be-?8\b",
    r"\bthoi vu (?:tai |o |sang |di |lam viec tai )?han\b", r"\bhan quoc\b.{0,40}\bthoi vu\b",
    r"\bseasonal (?:work|worker|labou?r|programme|program|job)", r"\btriple win\b",
    r"\bchuong trinh (?:cua )?(?:chinh phu|nha nuoc)\b", r"\bgovernment programme\b",
)  # fmt: skip
#: words that make a named programme or body the poster's own, or its partner
CLAIM = _any(
    r"doi tac", r"lien ket", r"truc thuoc", r"\bthuoc\b", r"can bo", r"uy quyen", r"uy thac",
    r"chinh thuc", r"phoi hop", r"do (?:cong ty|chung toi|trung tam)", r"chung toi", r"\btuyen",
    r"nhan ho so", r"dang ky", r"\bnop\b", r"\blien he\b", r"partner", r"official", r"affiliat",
    r"authori[sz]ed", r"on behalf", r"\bunder the\b", r"in cooperation", r"\bwe\b", r"\bour\b",
    r"recruit", r"apply", r"register", r"\bvia us\b", r"through us",
)  # fmt: skip
NEGATED = re.compile(
    r"khong (?:phai|tuyen|lien quan|thuoc|xet chon|lam|nhan|dai dien|thu)|khong co lien|"
    r"\bnot\b|\bno\b|does not|do not|don't|doesn't|never|\bkhong\b|chi do|only (?:by|through)"
)
FEE = _any(
    r"\bphi\b", r"chi phi", r"le phi", r"tien dich vu", r"dich vu", r"moi gioi", r"tron goi",
    r"dat coc", r"\bcoc\b", r"giu suat", r"giu cho", r"\bnop\b", r"dong tien", r"chuyen khoan",
    r"ho tro ho so", r"\bfee", r"deposit", r"\bcost", r"package", r"payment", r"processing",
    r"reserve", r"\bcharge", r"\bpay\b(?! (?:is|of|per|rate|range|from))", r"upfront",
)  # fmt: skip
#: costs a state programme itself lists for the worker (not a signal in a programme's posting)
PERSONAL_COST = _any(
    r"le phi thi", r"phi thi", r"topik", r"ho chieu", r"passport", r"kham suc khoe", r"medical",
    r"\bvisa\b", r"ky quy", r"ve may bay", r"air ?fare", r"ticket", r"ly lich tu phap",
    r"test fee", r"exam fee", r"criminal record",
)  # fmt: skip
PAY = _any(r"luong", r"thu nhap", r"salary", r"income", r"wage", r"earn", r"\bpay\b", r"hoa hong")
DEPOSIT = _any(
    r"dat coc", r"\btien coc\b", r"\bcoc\b", r"giu suat", r"giu cho", r"chong tron",
    r"chung minh tai chinh", r"phi dong phuc", r"tien dong phuc", r"deposit", r"holding fee",
    r"reserve (?:your |a |the )?(?:slot|place|seat|spot)", r"proof of funds", r"show money",
    r"uniform fee", r"keep (?:your |a |the )?(?:slot|place)", r"phi giu", r"nop truoc",
    r"dong truoc", r"pay (?:first|upfront|in advance)", r"upfront (?:fee|payment)",
)  # fmt: skip
DOMESTIC_FEE = _any(
    r"phi ho so",
    r"phi dao tao",
    r"phi bao hiem",
    r"phi nhan viec",
    r"phi xin viec",
    r"application fee",
    r"training fee",
    r"registration fee",
    r"phi dang ky",
    r"phi gioi thieu",
    r"phi moi gioi",
    r"\bnop\b.{0,40}\btruoc khi\b",
    r"placement fee",
)
TASK = _any(
    r"\bnap (?:tien|\d|truoc|vao)", r"kich hoat tai khoan", r"nang cap tai khoan",
    r"\bnap\b.{0,30}(?:kich hoat|nhiem vu|nhan don)", r"top[- ]?up", r"activate (?:your |the )?account",
    r"upgrade (?:your |the )?account", r"(?:nhiem vu|lam don|don hang ao).{0,40}hoa hong",
    r"hoa hong.{0,40}(?:nhiem vu|don hang)", r"(?:task|order)s?.{0,40}commission",
    r"commission.{0,40}tasks?", r"like video", r"tha tim", r"thanh toan (?:gia tri |truoc )?don",
    r"hoan (?:lai )?goc", r"pay for (?:the |each )?orders? (?:first|before)",
)  # fmt: skip
GUARANTEE = _any(
    r"\bbao (?:dau|do)(?: (?:visa|phong van|don))?(?: 100 ?%)?", r"\bbao (?:visa|xuat canh|bay)\b", r"\b100 ?% (?:dau|do|co visa|visa|xuat canh)",
    r"\b(?:dau|do) (?:visa )?100 ?%", r"cam ket (?:dau|do|co visa|xuat canh|bay)",
    r"chac chan (?:dau|do|co visa|xuat canh|duoc di|bay)", r"visa chac chan",
    r"dam bao (?:dau|do|co visa|xuat canh|bay|di)\b", r"khong (?:lo |so )?truot",
    r"guarantee[ds]? (?:the |your |a )?(?:visa|approval|departure|job|placement|selection|pass)",
    r"(?:visa|approval|departure|selection|placement)s? (?:is |are )?(?:100 ?% )?guaranteed",
    r"\b100 ?% (?:visa|success|pass|approval)", r"sure to (?:get|pass)",
    r"\b(?:9\d|100) ?% (?:hoc vien |ung vien |ho so )?(?:dau|do|xin visa thanh cong|co visa)",
    r"\b(?:9\d|100) ?% (?:of )?(?:applicants |students )?(?:get|got|obtain)\w* (?:a |the )?visa",
)  # fmt: skip
BYPASS = _any(
    r"khong can thi", r"khong (?:can )?(?:biet|hoc|thi) tieng", r"mien thi", r"khong qua thi",
    r"suat noi bo", r"suat ngoai giao", r"chuyen ho khau", r"lo ho khau", r"nhap ho khau",
    r"(?:truc xuat|bo tron|cu tru bat hop phap|quá han).{0,30}van (?:di|duoc)",
    r"qua tuoi van", r"khong gioi han tuoi", r"lo (?:kham|suc khoe)",
    r"no (?:language |korean |japanese )?test (?:needed|required)",
    r"without (?:the |a |any )?(?:language )?test", r"skip the (?:test|exam)", r"internal quota",
    r"(?:change|move) (?:your )?household registration", r"even if (?:you were )?deported",
)  # fmt: skip
ANY_PROVINCE = _any(r"nhan ho so (?:moi|tat ca cac|cac|toan quoc)", r"moi tinh", r"any province")
UNOFFICIAL = _any(
    r"visa du lich", r"visa thuong mai", r"visa cong tac", r"visa tham than",
    r"(?:doi|chuyen|chuyen doi|lam) (?:sang )?visa lao dong", r"qua cua khau",
    r"(?:xe|nguoi) (?:dua )?(?:don|cho) (?:tai|o|tu|qua) (?:bien gioi|cua khau)",
    r"tourist visa", r"business visa", r"visit visa", r"(?:change|convert|switch)\w* .{0,20}work visa",
    r"(?:ride|pick[- ]?up|transport) (?:from|at) the border", r"cross(?:ing)? the border",
    r"khong can hop dong", r"no contract",
)  # fmt: skip
DESK = _any(
    r"cskh", r"cham soc khach hang", r"nhap lieu", r"\bgame\b", r"online", r"typist", r"typing",
    r"customer service", r"data entry", r"telesale", r"marketing", r"casino", r"van phong",
    r"office", r"danh may", r"sales", r"ban hang qua mang",
)  # fmt: skip
BORDER_ZONES = {"KH", "MM", "LA"}
MESSAGING = _any(
    r"\bzalo\b", r"\btelegram\b", r"\btele\b", r"\bwhatsapp\b", r"\bwa\b", r"\bmessenger\b",
    r"\bfacebook\b", r"\bfb\b", r"\btiktok\b", r"\bviber\b", r"\bwechat\b", r"\bib\b",
    r"\binbox\b", r"\bnhan tin\b", r"\bmessage me\b", r"\bdm\b", r"\bsignal\b",
    r"(?:\+84|\b0)\d{2,3}[ .]?(?:\d{3}|x{3})[ .]?(?:\d{3,4}|x{3,4})\b", r"\bhotline\b",
)  # fmt: skip
ADDRESS = _any(
    r"dia chi", r"\bvp\b", r"van phong", r"tru so", r"chi nhanh", r"\bso \d+", r"\d+[a-z]? (?:duong|pho)\b",
    r"\bduong\b", r"\bphuong\b", r"\bquan\b", r"\btang \d", r"toa nha", r"\bkcn\b",
    r"khu cong nghiep", r"address", r"\boffice at\b", r"\bstreet\b", r"\broad\b", r"\bfloor\b",
    r"building", r"\bward\b", r"\bdistrict\b", r"nop (?:ho so )?(?:truc tiep )?tai", r"\bxa\b \w",
)  # fmt: skip
WEB = re.compile(
    r"\b[a-z0-9][a-z0-9-]*\.(?:com\.vn|vn|com|net|org|jp|kr|de|tw|au|asia)\b|"
    r"@[a-z0-9-]+\.[a-z]{2,}"
)
FREE_MAIL = re.compile(
    r"@(?:gmail|yahoo|hotmail|outlook)\.|facebook\.com|zalo\.me|tiktok\.com|t\.me"
)
BROKERAGE = _any(r"phi moi gioi", r"tien moi gioi", r"hoa hong moi gioi", r"brokerage",
                 r"broker(?:'s)? fee", r"agent fee", r"recruitment fee")  # fmt: skip
SERVICE_FEE = _any(r"tien dich vu", r"phi dich vu", r"service fee", r"service charge",
                   r"tron goi", r"package", r"all[- ]in", r"tong chi phi", r"total cost",
                   r"chi phi", r"\bfee\b", r"\bcost\b")  # fmt: skip
UNREALISTIC = _any(
    r"viec nhe(?:,)? luong cao", r"(?:luong|thu nhap) (?:hang|may|vai) tram trieu",
    r"easy (?:job|work)s?,? (?:with )?high (?:pay|salary|income)", r"light work,? high pay",
    r"(?:lam giau|kiem tien) nhanh", r"easy money",
)  # fmt: skip
AT_HOME = _any(r"tai nha", r"online", r"nhap lieu", r"at home", r"from home", r"data entry",
               r"typing", r"tren dien thoai", r"on your phone")  # fmt: skip
#: the deposit an employer pays, or the lawful EPS deposit at the state bank
LAWFUL_DEPOSIT = _any(r"ky quy", r"ngan hang chinh sach", r"nhcsxh", r"employer pays",
                      r"cong ty (?:tra|chiu)")  # fmt: skip
#: paid once the worker is hired or paid: not money up front
PAID_AFTER = _any(r"(?:tra|thu|nop) sau khi (?:nhan luong|ky|co viec|di lam|nhan viec|xuat canh)",
                  r"after (?:you )?(?:get paid|signing|sign|start|are hired|arrive)")  # fmt: skip
DAY_PAY_LIMIT = 500_000  # VND a day at home: the S50 lure
#: "more than about twice" the top of the cited band for the work and the country (tuned on
#: the dev split: 2.0 missed postings the labellers saw as twice the band)
PAY_TIMES = 1.7
#: desk work in the border zones at this pay or more (800 USD a month)
DESK_LURE_VND = 800 * RATES["USD"]
#: unskilled domestic work paid more than this many statutory minimum wages (region I)
UNSKILLED_TIMES = 4
NO_EXPERIENCE = _any(r"khong can kinh nghiem", r"chua co kinh nghiem", r"no experience",
                     r"without experience", r"khong yeu cau kinh nghiem")  # fmt: skip


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
