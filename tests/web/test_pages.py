"""The web pages in a real browser: Debian's Chromium driven by Playwright, against the real
server on 127.0.0.1 (real model, FAISS index and SQLite store). Screenshots of each page are
saved as test artifacts (``MATCHER_TEST_ARTIFACTS``, default ``test-artifacts/``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import ACCOUNTANT_PROFILE, ACCOUNTING_JOB, WELDING_JOB_KR, bearer
from tests.api.test_returnees import RETURNEE, SHIPYARD_JOB
from tests.server import create_key, free_port, start_server, stop_server

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("MATCHER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("MATCHER_TEST_ARTIFACTS", "test-artifacts"))
SLOW = 90_000  # ms: the model reads a CV in well under a second, but CI machines are busy

VI_CV = (
    "Nguyên công chức tài chính - kế toán xã, 12 năm kinh nghiệm. Lập báo cáo tài chính hằng "
    "quý, quản lý ngân sách xã, sử dụng Excel thành thạo, lưu trữ chứng từ."
)
TEACHER_JOB = {
    "title": "Giáo viên tiếng Anh trung tâm ngoại ngữ",
    "description": "Dạy tiếng Anh giao tiếp cho trẻ em, soạn giáo án, quản lý lớp học.",
    "employer": "Trung tâm Ngoại ngữ Demo",
    "province": "Hà Nội",
    "required_skills": ["soạn giáo án"],
}


@dataclass
class Site:
    base: str
    key: str
    agency_key: str  # an employer that runs no programme
    admin_key: str


@pytest.fixture(scope="module")
def site(settings, tmp_path_factory) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    state, port = tmp_path_factory.mktemp("web-state"), free_port()
    key = create_key(state, settings.caches, "--employer", "Trung tâm Dịch vụ Việc làm Thử nghiệm",
                     operator_of="eps-korea-manufacturing")  # fmt: skip
    agency = create_key(state, settings.caches, "--employer", "Công ty Tư vấn Ánh Dương")
    admin = create_key(state, settings.caches, "--admin")
    server = start_server(state, settings.caches, port)
    base = f"http://127.0.0.1:{port}"
    try:
        for job, owner in ((ACCOUNTING_JOB, key), (TEACHER_JOB, key), (WELDING_JOB_KR, key),
                           (SHIPYARD_JOB, agency)):  # fmt: skip
            response = httpx.post(f"{base}/v1/jobs", json=job, headers=bearer(owner), timeout=120)
            assert response.status_code == 201, response.text
        response = httpx.post(f"{base}/v1/candidates", json=ACCOUNTANT_PROFILE, timeout=120)
        assert response.status_code == 201, response.text
        yield Site(base, key, agency, admin)
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, site):  # type: ignore[no-untyped-def]
    """A phone-sized page that fails the test on a script error or a request off this host."""
    context = browser.new_context(viewport={"width": 400, "height": 860}, locale="vi-VN")
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    opened.on(
        "request",
        lambda request: None if request.url.startswith((site.base, "data:"))
        else problems.append(f"request off the host: {request.url}"),
    )  # fmt: skip
    yield opened
    context.close()
    assert not problems, problems


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_job_seeker_gets_ranked_jobs_with_skills_from_a_vietnamese_cv(page, site):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(f"{site.base}/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Tìm việc phù hợp với những gì bạn đã biết"
    )
    page.get_by_label("CV hoặc mô tả công việc trước đây").fill(VI_CV)
    page.get_by_label("Vị trí, chức danh trước đây (không bắt buộc)").fill(
        "công chức tài chính - kế toán xã"
    )
    page.get_by_label("Tỉnh, thành phố muốn làm việc").select_option("Hà Nội")
    page.get_by_label("Ngôn ngữ").first.select_option(label="Tiếng Anh")
    page.get_by_label("Chứng chỉ").first.select_option("IELTS")
    page.get_by_label("Trình độ, điểm").first.fill("6.5")
    page.get_by_role("button", name="Tìm việc phù hợp").click()

    jobs = page.locator("#jobs > li")
    expect(jobs.first).to_be_visible(timeout=SLOW)
    first = jobs.first
    expect(first.get_by_role("heading", level=3)).to_contain_text("Kế toán tổng hợp")
    expect(first.locator(".reasons li").first).to_be_visible()
    expect(first.locator(".chip.matched")).not_to_have_count(0)
    expect(first.locator(".chip.missing")).not_to_have_count(0)
    # the accountant's CV names financial statements but not tax: matched and missing, in Vietnamese
    expect(first.locator(".matched-skills")).to_contain_text("báo cáo tài chính")
    assert first.locator(".missing-skills").inner_text().strip() != ""
    expect(page.locator("#transitions > li").first).to_be_visible()
    expect(page.locator("#gaps > li").first).to_be_visible()
    expect(page.locator("#origin")).to_contain_text("Công việc cũ được hiểu là")
    screenshot(page, "job-seekers.png")

    # switch to English: the page and the reasons (asked again) change language
    vi_reasons = first.locator(".reasons").inner_text()
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Find jobs that fit what you already know"
    )
    expect(page.locator("#results-count")).to_contain_text("best first", timeout=SLOW)
    expect(page.locator("#jobs > li").first.locator(".reasons")).not_to_have_text(vi_reasons)
    screenshot(page, "job-seekers-en.png")
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#results-count")).to_contain_text("phù hợp nhất", timeout=SLOW)

    # save with consent, then view and delete it with the token
    page.get_by_label("Tôi đồng ý để nhà tuyển dụng tìm thấy hồ sơ của tôi").check()
    page.get_by_label("Tôi đồng ý để Trung tâm Dịch vụ việc làm của tỉnh tôi liệt kê và liên hệ với tôi").check()
    page.get_by_label("Họ tên (không bắt buộc)").fill("Trần Văn Thử")
    page.get_by_role("button", name="Lưu hồ sơ").click()
    expect(page.locator("#saved")).to_be_visible(timeout=SLOW)
    candidate_id = page.locator("#saved-id").inner_text()
    token = page.locator("#saved-token").inner_text()
    assert token.startswith("ct_")
    viewed = httpx.get(
        f"{site.base}/v1/candidates/{candidate_id}", headers=bearer(token), timeout=60
    )
    assert viewed.status_code == 200 and viewed.json()["consent_to_be_found"] is True
    page.get_by_role("button", name="Xem hồ sơ").click()
    expect(page.locator("#profile-view")).to_contain_text("Trần Văn Thử")
    # the consent given to employment service centres is shown, and withdrawn on the page
    assert viewed.json()["consent_to_centres"] is True
    page.get_by_role("button", name="Rút đồng ý với Trung tâm Dịch vụ việc làm").click()
    expect(page.locator("#manage-ok")).to_contain_text("Đã rút")
    again = httpx.get(f"{site.base}/v1/candidates/{candidate_id}", headers=bearer(token), timeout=60)
    assert again.json()["consent_to_centres"] is False and again.json()["consent_to_be_found"]
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Xoá hồ sơ").click()
    expect(page.locator("#manage-ok")).to_contain_text("Đã xoá hồ sơ")
    gone = httpx.get(f"{site.base}/v1/candidates/{candidate_id}", headers=bearer(token), timeout=60)
    assert gone.status_code in (401, 404)


def test_a_returnee_enters_a_korean_contract_and_sees_home_jobs_that_cite_it(page, site):  # type: ignore[no-untyped-def]
    """Issue 20: a worker back from Korea fills in the contract (no CV): the shipyard in their
    province that asks for TOPIK 3 is found, and its reasons cite the three years in Korea
    and the certificate, in Vietnamese and then in English."""
    from playwright.sync_api import expect

    page.goto(f"{site.base}/")
    page.get_by_label("Tỉnh, thành phố muốn làm việc").select_option("Hải Phòng")
    page.get_by_label("Nước đã làm việc").select_option("KR")
    page.get_by_label("Chương trình", exact=True).select_option("eps-korea-manufacturing")
    page.get_by_label("Ngành", exact=True).fill("đóng tàu")
    page.get_by_label("Từ tháng").fill("2019-03")
    page.get_by_label("Đến tháng").fill("2022-02")
    page.get_by_label("Về nước tháng").fill("2022-03")
    page.get_by_label("Công việc đã làm").fill("Hàn vỏ tàu, hàn hồ quang, đọc bản vẽ kỹ thuật.")
    page.get_by_label("Chứng chỉ đạt được ở nước ngoài").fill("TOPIK")
    page.get_by_label("Trình độ, điểm").last.fill("3")
    page.get_by_role("button", name="Tìm việc phù hợp").click()

    shipyard = page.locator("#jobs > li", has_text="Thợ hàn vỏ tàu")
    expect(shipyard).to_be_visible(timeout=SLOW)
    reasons = shipyard.locator(".reasons")
    expect(reasons).to_contain_text("Kinh nghiệm ở nước ngoài: 3 năm")
    expect(reasons).to_contain_text("tại Hàn Quốc (EPS) + TOPIK 3")
    expect(reasons).to_contain_text("Đáp ứng yêu cầu ngoại ngữ")
    screenshot(page, "returnee.png")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#results-count")).to_contain_text("best first", timeout=SLOW)
    expect(
        page.locator("#jobs > li", has_text="Thợ hàn vỏ tàu").locator(".reasons")
    ).to_contain_text("Experience abroad: 3 years in South Korea (EPS)", timeout=SLOW)


#: How the employer page lists the shipyard's posting.
SHIPYARD_OPTION = f"{SHIPYARD_JOB['title']} — {SHIPYARD_JOB['province']}"


def test_an_employer_invites_a_returnee_who_accepts_and_only_then_sees_the_contact(page, site):  # type: ignore[no-untyped-def]
    """Issue 20: the shipyard filters its candidates to Korean at level 3, reads why a
    returnee fits (the contract in Korea), and invites them; the candidate accepts on the
    seeker page with their id and token; only then does the shipyard see the contact."""
    from playwright.sync_api import expect

    welder = {**RETURNEE, "name": "Phạm Văn Hàn", "contact": "han.pham@example.invalid"}
    saved = httpx.post(f"{site.base}/v1/candidates", json=welder, timeout=120).json()
    candidate_id, token = saved["candidate"]["id"], saved["token"]

    page.goto(f"{site.base}/employers")
    page.get_by_label("Khoá API của đơn vị").fill(site.agency_key)
    page.get_by_role("button", name="Dùng khoá này").click()
    expect(page.locator("#key-ok")).to_be_visible()
    page.get_by_label("Tin tuyển dụng", exact=True).select_option(label=SHIPYARD_OPTION)
    page.get_by_label("Ngoại ngữ", exact=True).select_option("Korean")
    page.get_by_label("Trình độ tối thiểu").fill("3")
    page.get_by_role("button", name="Xem ứng viên").click()
    card = page.locator(f'#candidates > li[data-candidate-id="{candidate_id}"]')
    expect(card).to_be_visible(timeout=SLOW)
    expect(card.locator(".reasons")).to_contain_text("Kinh nghiệm ở nước ngoài: 3 năm")
    expect(card.locator(".meta")).to_contain_text("Đã làm việc ở Hàn Quốc 3 năm TOPIK 3")
    card.get_by_text("Mời ứng tuyển").click()
    card.get_by_label("Lời nhắn").fill("Mời anh đến xưởng đóng tàu ở Hải Phòng nói chuyện.")
    card.get_by_role("button", name="Gửi lời mời").click()
    expect(card.locator(".status")).to_have_text("Đã gửi lời mời.")
    page.get_by_role("button", name="Xem lời mời và đơn ứng tuyển của tin này").click()
    sent = page.locator(f'#sent-invitations li[data-candidate-id="{candidate_id}"]')
    expect(sent).to_contain_text("chưa trả lời")
    assert welder["contact"] not in page.locator("body").inner_text()

    page.goto(f"{site.base}/")
    page.get_by_label("Mã hồ sơ").fill(candidate_id)
    page.get_by_label("Mã bí mật").fill(token)
    page.get_by_role("button", name="Xem hồ sơ").click()
    invitation = page.locator("#invitations > li.invitation")
    expect(invitation).to_contain_text("Mời anh đến xưởng đóng tàu", timeout=SLOW)
    expect(invitation).to_contain_text("Công ty Tư vấn Ánh Dương")
    invitation.get_by_role("button", name="Nhận lời").click()
    expect(page.locator("#invitations > li.invitation")).to_contain_text("Đã nhận lời")
    screenshot(page, "invitation-accepted.png")

    page.goto(f"{site.base}/employers")  # the key stays in this tab
    expect(page.locator("#work")).to_be_visible(timeout=SLOW)
    page.get_by_label("Tin tuyển dụng", exact=True).select_option(label=SHIPYARD_OPTION)
    page.get_by_role("button", name="Xem lời mời và đơn ứng tuyển của tin này").click()
    sent = page.locator(f'#sent-invitations li[data-candidate-id="{candidate_id}"]')
    expect(sent).to_contain_text("đã nhận lời")
    expect(sent).to_contain_text("Phạm Văn Hàn · han.pham@example.invalid")


WORKER_CV = (
    "Tôi 26 tuổi, làm công nhân cơ khí 4 năm ở Bắc Ninh, vận hành máy CNC, hàn hồ quang, hàn "
    "MIG, đọc bản vẽ kỹ thuật. Muốn đi làm việc ở Hàn Quốc."
)


def test_a_worker_going_abroad_sees_programme_jobs_with_what_to_check(page, site):  # type: ignore[no-untyped-def]
    """The issue's reproduction on the page: health left blank is something to check, never a
    reason to hide the EPS posting; born 1978, the page says why EPS is not shown."""
    from playwright.sync_api import expect

    page.goto(f"{site.base}/")
    page.get_by_label("CV hoặc mô tả công việc trước đây").fill(WORKER_CV)
    page.get_by_label("Tỉnh, thành phố muốn làm việc").select_option("Bắc Ninh")
    page.get_by_label("Ngôn ngữ").first.select_option(label="Tiếng Hàn")
    page.get_by_label("Chứng chỉ").first.select_option("EPS-TOPIK")
    page.get_by_label("Trình độ, điểm").first.fill("150")
    page.get_by_label(
        "Tôi muốn xem cả việc làm ở nước ngoài (EPS Hàn Quốc, IM Japan, Đức…)"
    ).check()
    page.get_by_label("Năm sinh (không bắt buộc)").fill("2000")
    # what the programmes need is asked, each optional, saying why and who sees it
    expect(page.get_by_label("Tự khai sức khỏe")).to_have_value("")
    expect(page.locator("#health-hint")).to_contain_text("không bao giờ hiện cho nhà tuyển dụng")
    expect(page.locator("#priority-groups input")).not_to_have_count(0)  # from the rules file
    expect(page.get_by_label("Người dân tộc thiểu số")).to_be_visible()
    expect(page.get_by_label("Tôi đã từng cư trú bất hợp pháp ở nước ngoài")).not_to_be_checked()
    page.get_by_label("Trình độ học vấn").select_option("upper-secondary")
    page.get_by_role("button", name="Tìm việc phù hợp").click()

    eps = page.locator("#jobs > li", has_text="Thợ hàn — EPS Hàn Quốc")
    expect(eps).to_have_count(1, timeout=SLOW)
    expect(eps.locator(".eligibility")).to_have_attribute("data-status", "eligible_if")
    health = eps.locator("li.to-check[data-kind=health]")
    expect(health).to_contain_text("Cần kiểm tra")
    expect(health).to_contain_text("Khám sức khỏe")
    expect(eps.locator("li.met[data-kind=language]")).to_contain_text("EPS-TOPIK 150")
    expect(page.locator("#held-back")).to_be_hidden()
    # the programme cards name the programme (not its id), its costs and what rules it out
    card = page.locator("#programmes > li[data-programme=eps-korea-manufacturing]")
    expect(card.get_by_role("heading", level=3)).to_contain_text("EPS")
    expect(card.locator(".excludes")).to_contain_text("bất hợp pháp")
    expect(card.locator(".eligibility")).to_have_attribute("data-status", "eligible_if")
    # every fact nobody checked says so, on every card, exactly as the rules file marks it
    listing = httpx.get(f"{site.base}/v1/programmes", timeout=30).json()
    expect(page.locator("#programmes > li")).to_have_count(len(listing["programmes"]))
    unverified = 0
    for programme in listing["programmes"]:
        shown = page.locator(f"#programmes > li[data-programme={programme['id']}]")
        for key in ("intake", "contract", "pay", "costs", "support"):
            row, fact = shown.locator(f".fact[data-fact={key}]"), programme.get(key)
            if fact is None:
                expect(row).to_have_count(0)
                continue
            expect(row).to_have_attribute("data-verified", str(fact["verified"]).lower())
            if fact["verified"]:
                expect(row.locator(".unverified")).to_have_count(0)
                expect(row.locator("a.verified")).to_have_attribute("href", fact["checked_url"])
            else:
                unverified += 1
                expect(row.locator(".unverified")).to_contain_text(
                    "chưa xác minh — hỏi Trung tâm Lao động ngoài nước"
                )
    assert unverified > 0
    rules = card.locator(".eligibility li[data-verified=false]")
    expect(rules.locator(".unverified")).to_have_count(rules.count())
    screenshot(page, "job-seekers-abroad.png")

    page.get_by_label("Năm sinh (không bắt buộc)").fill("1978")
    page.get_by_role("button", name="Tìm việc phù hợp").click()
    held = page.locator("#held-back li[data-programme=eps-korea-manufacturing]")
    expect(held).to_be_visible(timeout=SLOW)
    expect(held).to_contain_text("không hiển thị")
    expect(held).to_contain_text("18–39")
    expect(page.locator("#jobs > li", has_text="Thợ hàn — EPS Hàn Quốc")).to_have_count(0)
    expect(card.locator(".eligibility")).to_have_attribute("data-status", "not_eligible")
    screenshot(page, "job-seekers-abroad-held-back.png")


def test_job_seeker_sees_a_readable_message_for_an_empty_form_and_a_wrong_token(page, site):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(f"{site.base}/")
    page.get_by_role("button", name="Tìm việc phù hợp").click()
    expect(page.locator("#form-error")).to_have_text(
        "Hãy dán CV, mô tả công việc trước đây hoặc điền vị trí cũ."
    )
    page.get_by_label("Mã hồ sơ").fill("00000000-0000-0000-0000-000000000000")
    page.get_by_label("Mã bí mật").fill("ct_wrong")
    page.get_by_role("button", name="Xem hồ sơ").click()
    expect(page.locator("#manage-error")).to_contain_text(
        "Không tìm thấy. Có thể mã đã sai", timeout=SLOW
    )


def test_employer_posts_a_job_imports_a_file_and_sees_candidates(page, site):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(f"{site.base}/employers")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dành cho nhà tuyển dụng")

    # a wrong key: a readable message in the page's language, and nothing unlocked
    key_input = page.get_by_label("Khoá API của đơn vị")
    key_input.fill("mk_this-key-does-not-exist")
    key_input.press("Enter")  # the keyboard submits the form
    error = page.locator("#key-error")
    expect(error).to_contain_text("Khoá hoặc mã bí mật không đúng, hoặc đã bị thu hồi")
    expect(page.locator("#work")).to_be_hidden()
    screenshot(page, "employers-wrong-key.png")

    key_input.fill(site.key)
    page.get_by_role("button", name="Dùng khoá này").click()
    expect(page.locator("#key-ok")).to_contain_text("Khoá hợp lệ. Đơn vị có 3 tin tuyển dụng.")
    expect(error).to_be_hidden()

    page.get_by_label("Chức danh").fill("Kế toán viên thuế")
    page.get_by_label("Mô tả công việc").fill(
        "Lập báo cáo tài chính, kê khai thuế giá trị gia tăng, đối chiếu chứng từ."
    )
    page.get_by_label("Tỉnh, thành phố nơi làm việc").select_option("Hà Nội")
    page.get_by_label("Kỹ năng bắt buộc (cách nhau bằng dấu phẩy)").fill("lập báo cáo tài chính")
    page.get_by_role("button", name="Đăng tin").click()
    expect(page.locator("#post-ok")).to_have_text("Đã đăng: Kế toán viên thuế", timeout=SLOW)
    expect(page.get_by_label("Tin tuyển dụng", exact=True)).to_contain_text("Kế toán viên thuế")

    page.get_by_role("button", name="Xem ứng viên").click()
    candidates = page.locator("#candidates > li")
    expect(candidates.first).to_be_visible(timeout=SLOW)
    expect(candidates.first).to_contain_text("công chức tài chính - kế toán xã")
    expect(candidates.first.locator(".reasons li").first).to_be_visible()
    expect(candidates.first.locator(".chip.matched")).not_to_have_count(0)
    # employers never see a candidate's name or contact
    body = page.locator("body").inner_text()
    assert ACCOUNTANT_PROFILE["name"] not in body and ACCOUNTANT_PROFILE["contact"] not in body

    csv_text = (
        "title,province,required_skills\nNhân viên kho,Hải Phòng,sắp xếp hàng hoá\n,Hà Nội,\n"
    )
    page.get_by_label("Tệp CSV hoặc JSONL").set_input_files(
        {"name": "tin-tuyen-dung.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}
    )
    page.get_by_role("button", name="Nhập tệp").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text("Đã nhập 1 tin.", timeout=SLOW)
    expect(report).to_contain_text("Dòng 3")
    expect(page.get_by_label("Tin tuyển dụng", exact=True)).to_contain_text("Nhân viên kho")
    screenshot(page, "employers.png")


def test_an_employer_sees_why_a_posting_is_held_and_a_seeker_reports_one(page, site):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(f"{site.base}/employers")
    page.get_by_label("Khoá API của đơn vị").fill(site.agency_key)
    page.get_by_role("button", name="Dùng khoá này").click()
    expect(page.locator("#key-ok")).to_be_visible()
    page.get_by_label("Chức danh").fill("Đi Hàn Quốc làm nhà máy, lương cao")
    page.get_by_label("Mô tả công việc").fill(
        "Bao đậu visa 100%. Chi phí trọn gói 180 triệu, đặt cọc 30 triệu giữ suất. Zalo 0912 345 678."
    )
    page.get_by_role("button", name="Đăng tin").click()
    expect(page.locator("#post-ok")).to_contain_text("đang chờ kiểm duyệt", timeout=SLOW)
    review = page.locator("#post-review")
    expect(review).to_contain_text("Đang chờ kiểm duyệt: người tìm việc chưa thấy tin này.")
    expect(review.locator('li[data-signal="guaranteed_outcome"]')).to_contain_text("Bao đậu visa 100%")
    expect(review.locator('li[data-signal="upfront_deposit"]')).to_be_visible()
    # the list of postings says so, and no candidate search is run with it
    expect(page.get_by_label("Tin tuyển dụng", exact=True)).to_contain_text("đang chờ kiểm duyệt")
    page.get_by_role("button", name="Xem ứng viên").click()
    expect(page.locator("#candidates-error")).to_contain_text("chưa thể tìm ứng viên")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#posting-review")).to_contain_text("Under review")
    screenshot(page, "employers-held.png")

    # a seeker reports one of the postings on their results
    page.goto(f"{site.base}/?lang=vi")
    page.get_by_label("CV hoặc mô tả công việc trước đây").fill(VI_CV)
    page.get_by_role("button", name="Tìm việc phù hợp").click()
    first = page.locator("#jobs > li").first
    expect(first).to_be_visible(timeout=SLOW)
    job_id = first.get_attribute("data-job-id")
    first.get_by_text("Báo cáo tin đáng ngờ").click()
    first.get_by_role("button", name="Gửi báo cáo").click()
    expect(first.locator(".report .status")).to_contain_text("Hãy viết ngắn gọn")
    first.get_by_label("Điều gì đáng ngờ?").fill("Họ đòi đặt cọc trước khi phỏng vấn")
    first.get_by_role("button", name="Gửi báo cáo").click()
    expect(first.locator(".report .status")).to_contain_text("Đã nhận báo cáo", timeout=SLOW)
    queue = httpx.get(f"{site.base}/v1/admin/jobs/review", headers=bearer(site.admin_key),
                      timeout=60).json()["results"]  # fmt: skip
    reported = [job for job in queue if job["id"] == job_id]
    assert reported and reported[0]["review"]["reports"] == 1
    assert any(job["title"].startswith("Đi Hàn Quốc") for job in queue)  # the held posting
    screenshot(page, "seeker-report.png")


HOSTILE_TITLE = (
    'Kế toán <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
)


def test_hostile_text_is_shown_as_text_never_run(page, site):  # type: ignore[no-untyped-def]
    """A posting title and a CV with script and HTML tags: shown literally, nothing runs."""
    from playwright.sync_api import expect

    job = dict(ACCOUNTING_JOB, title=HOSTILE_TITLE,
               description="Lập báo cáo tài chính <b onmouseover=alert(1)>Excel</b>; DROP TABLE jobs;--")  # fmt: skip
    made = httpx.post(f"{site.base}/v1/jobs", json=job, headers=bearer(site.key), timeout=120)
    assert made.status_code == 201 and made.json()["title"] == HOSTILE_TITLE  # stored intact
    page.goto(f"{site.base}/")
    page.get_by_label("CV hoặc mô tả công việc trước đây").fill(
        "Kế toán, lập báo cáo tài chính <script>window.__pwned = 3</script>"
        '<img src=x onerror="window.__pwned = 4"> Ke\u0302\u0301 toa\u0301n \u200b'
    )
    page.get_by_role("button", name="Tìm việc phù hợp").click()
    jobs = page.locator("#jobs > li")
    expect(jobs.first).to_be_visible(timeout=SLOW)
    expect(page.locator("#jobs")).to_contain_text("<script>window.__pwned = 1</script>")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#jobs script, #jobs img").count() == 0
    screenshot(page, "hostile-text.png")


def test_an_admin_runs_the_fairness_audit_and_reads_its_tables_and_plot(page, site):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(f"{site.base}/admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra công bằng của xếp hạng")
    key_input = page.get_by_label("Khoá API quản trị (lệnh: matcher keys create --admin)")
    key_input.fill(site.key)  # an employer's key is no admin key
    key_input.press("Enter")
    expect(page.locator("#key-error")).to_contain_text("không được phép")
    expect(page.locator("#work")).to_be_hidden()

    key_input.fill(site.admin_key)
    page.get_by_role("button", name="Dùng khoá này").click()
    expect(page.locator("#audit-state")).to_have_text("Chưa chạy lần kiểm tra nào.")
    page.get_by_label("Quy mô").select_option("quick")
    page.get_by_role("button", name="Chạy kiểm tra công bằng").click()
    expect(page.locator("#audit-state")).to_contain_text("Đang chạy")  # progress is shown
    expect(page.locator("#audit-progress")).to_be_visible()

    report = page.locator("#report")
    expect(report).to_be_visible(timeout=900_000)
    expect(page.locator("#audit-state")).to_contain_text("Đã xong")
    expect(page.locator("#counterfactual-table")).to_contain_text("Ứng viên cho nhà tuyển dụng")
    expect(page.locator("#counterfactual-table")).to_contain_text("Giới tính")
    expect(page.locator("#impact-table")).to_contain_text("Nhóm ưu tiên")
    # groups by their names in the reader's language, never by their ids
    parity = page.locator("#parity-table")
    expect(parity).to_contain_text("Trên 50 tuổi")
    expect(parity).to_contain_text("Nữ")
    expect(parity).not_to_contain_text("over_50")
    plot = page.locator("#audit-plot")
    expect(plot).to_be_visible()
    assert plot.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert page.evaluate("document.getElementById('audit-plot').naturalWidth") > 0
    screenshot(page, "admin-fairness-audit.png")

    page.get_by_role("button", name="English").click()
    expect(page.locator("#counterfactual-table")).to_contain_text("Candidates for employers")
    expect(page.locator("#impact-table")).to_contain_text("Priority group")
    expect(parity).to_contain_text("Over 50")
    expect(parity).to_contain_text("Women")
