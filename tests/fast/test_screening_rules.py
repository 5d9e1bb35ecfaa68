"""Every screening rule on a posting that shows its signal and one that does not, in
Vietnamese and in English; the registry match and the look-alike check (the real registry and
the evaluation set's own); the evidence is the posting's own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.screening import Posting, Screener, load_registry, load_signal_book
from matcher.screening.money import amounts, contract_months, skeleton
from matcher.screening.pay import load_pay
from matcher.settings import PROJECT_ROOT

DATA = PROJECT_ROOT / "data"
ADDRESS = " VP: 12 Lê Lợi, Quận 1, TP.HCM."


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(load_signal_book(DATA), load_registry(DATA / "scam-eval" / "registry.csv"),
                    load_pay(DATA))  # fmt: skip


def codes(screener: Screener, **fields: object) -> set[str]:
    posting = Posting(**{"title": "Tuyển công nhân"} | fields)  # type: ignore[arg-type]
    return {s.code for s in screener.screen(posting).signals}


# (signal, shows it, does not show it, extra fields): each in Vietnamese, then in English
CASES = [
    ("guaranteed_outcome", "Bao đậu visa 100%, bay sau 2 tháng." + ADDRESS,
     "Hoàn phí nếu không được cấp visa." + ADDRESS, {"country": "JP"}),
    ("guaranteed_outcome", "Visa guaranteed in 45 days." + ADDRESS,
     "Visa decisions are made by the embassy." + ADDRESS, {"country": "PL"}),
    ("upfront_deposit", "Đặt cọc 30 triệu để giữ suất." + ADDRESS,
     "Không thu bất kỳ khoản đặt cọc nào trước phỏng vấn." + ADDRESS, {"country": "JP"}),
    ("upfront_deposit", "Pay a 2,000 EUR deposit to reserve your slot." + ADDRESS,
     "No deposit is ever asked of workers." + ADDRESS, {"country": "PL"}),
    ("upfront_deposit", "Nộp 500.000đ phí hồ sơ trước khi nhận việc." + ADDRESS,
     "Công ty không thu phí hồ sơ." + ADDRESS, {}),
    ("task_deposit", "Nạp 300k kích hoạt tài khoản để nhận nhiệm vụ, hoa hồng 10%." + ADDRESS,
     "Nhân viên bán hàng, hoa hồng 5% doanh số." + ADDRESS, {}),
    ("task_deposit", "Top up 50 USD to activate your account and get tasks." + ADDRESS,
     "Sales assistant, 5% commission on sales." + ADDRESS, {}),
    ("bypass_selection", "Không cần thi tiếng vẫn đi được." + ADDRESS,
     "Phải đạt kỳ thi tiếng Hàn EPS-TOPIK." + ADDRESS, {"country": "KR"}),
    ("bypass_selection", "No language test required, internal quota." + ADDRESS,
     "Candidates sit the Korean language test." + ADDRESS, {"country": "KR"}),
    ("unofficial_route", "Sang bằng visa du lịch rồi đổi visa lao động." + ADDRESS,
     "Visa lao động do đối tác Nhật xin." + ADDRESS, {"country": "JP"}),
    ("unofficial_route", "Travel on a tourist visa, we convert it to a work visa there." + ADDRESS,
     "The employer applies for your work visa." + ADDRESS, {"country": "JP"}),
    ("private_contact_only", "Liên hệ Telegram @vieclam.", "Liên hệ Zalo 0912 345 678." + ADDRESS, {}),
    ("private_contact_only", "Message me on WhatsApp.", "Apply at hr@anphat.vn or WhatsApp us.", {}),
    ("unrealistic_pay", "Việc nhẹ lương cao, làm tại nhà." + ADDRESS,
     "Lương 8 triệu/tháng." + ADDRESS, {}),
    ("unrealistic_pay", "Data entry at home, 800k/day." + ADDRESS,
     "Data entry at the office, 8 million a month." + ADDRESS, {}),
    ("fee_over_ceiling", "Phí dịch vụ 6.500 USD, lương 900 USD/tháng, hợp đồng 3 năm." + ADDRESS,
     "Phí dịch vụ 2.000 USD, lương 900 USD/tháng, hợp đồng 3 năm." + ADDRESS, {"country": "TW"}),
    ("fee_over_ceiling", "Brokerage fee 3,000 USD, salary 900 USD a month." + ADDRESS,
     "No brokerage fee; service fee 1,500 USD, salary 900 USD a month, 3-year contract."
     + ADDRESS, {"country": "TW"}),
    ("state_programme_fee", "Hỗ trợ hồ sơ EPS trọn gói 25 triệu." + ADDRESS,
     "Luyện thi tiếng Hàn, chúng tôi không tuyển EPS." + ADDRESS, {"country": "KR"}),
    ("state_programme_fee", "IM Japan places: pay a 2,000 USD processing fee to us." + ADDRESS,
     "Japanese lessons; we are not part of IM Japan." + ADDRESS, {"country": "JP"}),
    ("programme_impersonation", "Đối tác chính thức của Trung tâm Lao động ngoài nước." + ADDRESS,
     "Hỏi Trung tâm Lao động ngoài nước, chúng tôi không liên quan." + ADDRESS, {"country": "KR"}),
    ("programme_impersonation", "We are an official partner of the Centre of Overseas Labour."
     + ADDRESS, "We do not recruit for the Centre of Overseas Labour." + ADDRESS,
     {"country": "KR"}),
]  # fmt: skip


@pytest.mark.parametrize(("code", "positive", "negative", "extra"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])  # fmt: skip
def test_each_rule_finds_its_signal_and_only_there(
    screener: Screener, code: str, positive: str, negative: str, extra: dict[str, object]
) -> None:
    assert code in codes(screener, description=positive, **extra)
    assert code not in codes(screener, description=negative, **extra)


def test_the_evidence_is_the_postings_own_words_without_diacritics_too(
    screener: Screener,
) -> None:
    text = "Tuyển gấp!!! BAO DAU VISA 100%, dat coc 20tr giu suat, ib zalo"
    result = screener.screen(Posting(title="Đi Nhật", description=text, country="JP"))
    found = {s.code: s for s in result.signals}
    assert result.held and {"guaranteed_outcome", "upfront_deposit"} <= set(found)
    for signal in found.values():
        if signal.start is not None:
            assert text[signal.start : signal.end] == signal.evidence
    assert found["guaranteed_outcome"].evidence == "BAO DAU VISA 100%"


def test_one_weak_signal_does_not_hold_two_do(screener: Screener) -> None:
    one = screener.screen(Posting(title="Thợ điện nước", description="400k/ngày. Liên hệ Zalo 0900000542."))
    assert {s.code for s in one.signals} == {"private_contact_only"} and not one.held
    two = screener.screen(Posting(title="Nhập liệu tại nhà", description="Việc nhẹ lương cao, ib Zalo."))
    assert {"private_contact_only", "unrealistic_pay"} <= {s.code for s in two.signals}
    assert two.held


def test_pay_far_above_the_cited_table_is_a_signal(screener: Screener) -> None:
    band = screener.pay.band("JP", skeleton("phụ bếp nhà hàng"))
    if band is None:
        pytest.skip("no pay band for Japan in data/pay_reference.csv")
    high = band.vnd_month_max * 3
    found = codes(screener, title="Phụ bếp nhà hàng Osaka", description="Bếp." + ADDRESS,
                  country="JP", salary_min=high, salary_max=high)  # fmt: skip
    assert "unrealistic_pay" in found
    normal = codes(screener, title="Phụ bếp nhà hàng Osaka", description="Bếp." + ADDRESS,
                   country="JP", salary_min=band.vnd_month_max, salary_max=band.vnd_month_max)  # fmt: skip
    assert "unrealistic_pay" not in normal


def test_a_licensed_enterprise_is_commercial_with_the_fee_ceiling(screener: Screener) -> None:
    result = screener.screen(Posting(
        title="Thực tập sinh Nhật Bản", country="JP", employer="Công ty CP Cung ứng Nhân lực Hồng Lam",
        description="Website honglamhr.vn." + ADDRESS,
    ))  # fmt: skip
    assert result.commercial is not None and not result.held
    assert "3 tháng lương" in result.commercial.fee_ceiling_vi
    assert "3 months" in result.commercial.fee_ceiling_en and result.commercial.law
    assert "unlicensed_overseas" not in {s.code for s in result.signals}
    # the same enterprise written in English is the same enterprise
    english = screener.screen(Posting(title="Interns", country="JP",
                                      employer="Hong Lam Manpower Supply JSC"))  # fmt: skip
    assert english.commercial is not None


@pytest.mark.parametrize(("employer", "text"), [
    ("Hồng Lam HR Group (honglam-hr.com)", ""),  # the name, another site
    ("Công ty CP Hợp tác Lao động Bình Minh Quốc tế", "Xem binhminh-labour.vn"),
    ("Công ty Nhân lực Sao Khue Group", "saokhue-hr.com.vn"),
])  # fmt: skip
def test_a_lookalike_of_a_licensed_enterprise_is_held(screener: Screener, employer: str,
                                                      text: str) -> None:  # fmt: skip
    result = screener.screen(Posting(title="Đi Nhật", employer=employer, country="JP",
                                     description=text + ADDRESS))  # fmt: skip
    assert "lookalike_employer" in {s.code for s in result.signals} and result.held
    assert result.commercial is None


def test_the_halsuco_lookalikes_in_the_real_registry() -> None:
    """DOLAB's warning: halsuco.vn and halsuco.com.vn imitate the registered halsucohanoi.vn."""
    registry = load_registry(DATA / "licensed_enterprises.csv")
    assert len(registry) > 300
    for site in ("halsuco.vn", "halsuco.com.vn", "www.halsuco.vn"):
        match = registry.match("Halsuco Việt Nam", f"Xem {site}")
        assert match is not None and match.kind == "lookalike" and "halsuco" in match.evidence
    real = registry.match("HALSUCO", "Website halsucohanoi.vn")
    assert real is not None and real.kind == "licensed"
    assert registry.match("Công ty TNHH Bánh mì Phố Cổ", "") is None


def test_an_overseas_posting_outside_the_registry_is_a_signal_in_its_own_right(
    screener: Screener,
) -> None:
    found = codes(screener, title="Đi Đài Loan", employer="Công ty TNHH Ánh Sao", country="TW",
                  description="Nhà máy điện tử." + ADDRESS)  # fmt: skip
    assert "unlicensed_overseas" in found
    assert "unlicensed_overseas" not in codes(screener, title="Kế toán", employer="Công ty Ánh Sao",
                                              description="Hà Nội." + ADDRESS)  # fmt: skip


def test_money_and_contracts_as_postings_write_them() -> None:
    def vnd(text: str) -> list[int]:
        return [round(a.vnd) for a in amounts(skeleton(text))]

    assert vnd("180 triệu") == [180_000_000] and vnd("180tr") == [180_000_000]
    assert vnd("180.000.000đ") == [180_000_000] and vnd("300k") == [300_000]
    assert vnd("$5,000") == vnd("5.000 USD") == [131_500_000]
    assert contract_months(skeleton("Hợp đồng 3 năm")) == 36
    assert contract_months(skeleton("a 2-year contract")) == 24


def test_the_signals_are_cited(screener: Screener) -> None:
    book = screener.book
    assert book.fee_ceiling.source.startswith("http") and not book.fee_ceiling.verified
    for code, kind in book.signals.items():
        assert kind.vi and kind.en, code
        if code not in ("revoked_licence", "seeker_report"):
            assert kind.sources and all(s.startswith("http") for s in kind.sources), code


def test_the_dev_split_is_screened_as_labelled() -> None:
    """The figures docs/evaluation.md reports for the dev split (rules tuned on it)."""
    from matcher.screening.evaluation import evaluate_screening

    report = evaluate_screening(DATA / "scam-eval", load_signal_book(DATA), load_pay(DATA),
                                split="dev").as_dict()  # fmt: skip
    assert report["overall"]["n"] == 129 and report["overall"]["suspicious"] == 44
    assert report["overall"]["recall"] >= 0.9 and report["overall"]["precision"] >= 0.9


def test_reading_a_missing_pay_table_gives_an_empty_one(tmp_path: Path) -> None:
    assert load_pay(tmp_path).band("JP", "") is None
