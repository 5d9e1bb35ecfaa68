// The employer page: an API key, then post a job, import a file, and see ranked consenting
// candidates for a posting, with reasons. The key stays in this tab only (sessionStorage).
import {
  api, busy, clear, el, getLang, keyFormHandler, loadProvinces, messageForm, scoreText, setupLanguage, showError, showMessage,
  skillList, t,
} from "./common.js";

const $ = (id) => document.getElementById(id);
const KEY = "matcher.employerKey";
let key = sessionStorage.getItem(KEY);
let postings = [];
let lastRanking = null;
let lastPosted = null; // the posting just sent, whose review is shown under the form

const useKey = keyFormHandler((given) => unlock(given), () => { $("key-ok").hidden = true; });

async function unlock(given) {
  try {
    const total = await loadPostings(given);
    key = given;
    sessionStorage.setItem(KEY, key);
    showMessage($("key-ok"), t("key_ok", { n: total }));
    $("forget-key").hidden = false;
    $("work").hidden = false;
    fillPostings();
  } catch (error) {
    lock();
    showError($("key-error"), error);
    $("key-error").focus();
  }
}

function lock() {
  key = null;
  sessionStorage.removeItem(KEY);
  $("work").hidden = true;
  $("forget-key").hidden = true;
  $("key-ok").hidden = true;
}

function fillPostings(selected) {
  const select = $("posting");
  if (!postings.length) {
    select.replaceChildren(el("option", { value: "" }, t("no_postings")));
    return;
  }
  select.replaceChildren(
    ...postings.map((job) => {
      const hidden = job.review && ["held", "rejected"].includes(job.review.status);
      const status = hidden ? t(`review_${job.review.status}_short`) : null;
      return el("option", { value: job.id }, [job.title, job.province, status].filter(Boolean).join(" — "));
    }),
  );
  if (selected) select.value = selected;
  showPostingReview();
}

/** Why a posting is under review: each signal, in the page's language, with the posting's own
 * words that show it. Empty for a posting with nothing to say. */
function reviewBox(box, job) {
  const review = job && job.review;
  if (!review || !review.signals.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const vi = getLang() === "vi";
  box.dataset.status = review.status;
  box.replaceChildren(
    el("p", {}, el("strong", {}, t(`review_${review.status}`))),
    el(
      "ul",
      {},
      review.signals.map((signal) =>
        el(
          "li",
          { "data-signal": signal.code, "data-strength": signal.strength },
          vi ? signal.message_vi : signal.message_en,
          signal.evidence ? el("q", {}, signal.evidence) : null,
        ),
      ),
    ),
    ["held", "queued"].includes(review.status) ? el("p", { class: "hint" }, t("review_next")) : null,
  );
  box.hidden = false;
}

function showPostingReview() {
  reviewBox($("posting-review"), postings.find((job) => job.id === $("posting").value));
}

/** This organisation's postings (newest first) into `postings`; returns how many it has. */
async function loadPostings(token) {
  const list = await api("GET", "/v1/jobs?limit=200", { token });
  postings = list.results;
  return list.total;
}

async function refreshPostings(selected) {
  await loadPostings(key);
  fillPostings(selected);
}

async function postJob(event) {
  event.preventDefault();
  clear($("post-error"));
  $("post-ok").hidden = true;
  const title = $("job-title").value.trim();
  if (!title) {
    showMessage($("post-error"), t("need_title"));
    $("job-title").focus();
    return;
  }
  const experience = $("job-experience").value.trim();
  const body = {
    title,
    description: $("job-description").value.trim(),
    province: $("job-province").value || null,
    required_skills: $("job-skills").value.split(/[,;\n]/).map((s) => s.trim()).filter(Boolean),
    min_experience_years: experience ? Number(experience) : null,
  };
  await busy($("post-job"), $("post-status"), t("posting"), async () => {
    try {
      const job = await api("POST", "/v1/jobs", { body, token: key });
      const held = job.review && job.review.status === "held";
      showMessage($("post-ok"), t(held ? "posted_held" : "posted", { title: job.title }));
      lastPosted = job;
      reviewBox($("post-review"), job);
      $("job-form").reset();
      await refreshPostings(job.id);
    } catch (error) {
      showError($("post-error"), error);
    }
  });
}

async function importFile(event) {
  event.preventDefault();
  clear($("import-error"));
  $("import-report").hidden = true;
  const file = $("import-file").files[0];
  if (!file) {
    showMessage($("import-error"), t("need_file"));
    return;
  }
  const type = /\.csv$/i.test(file.name) || file.type === "text/csv" ? "text/csv" : "application/x-ndjson";
  await busy($("import"), $("import-status"), t("importing"), async () => {
    let report;
    try {
      report = await api("POST", "/v1/jobs/bulk", { body: await file.text(), contentType: type, token: key });
    } catch (error) {
      showError($("import-error"), error);
      // a file with no good row is a 422 that still carries the report: show which lines and why
      if (error.body && Array.isArray(error.body.errors)) showReport(error.body);
      return;
    }
    showReport(report);
    await refreshPostings(report.ids[0]);
  });
}

function showReport(report) {
  const box = $("import-report");
  box.replaceChildren(el("p", {}, t("import_report", { n: report.imported })));
  if (report.held && report.held.length) {
    box.append(el("p", { class: "held-count" }, t("import_held", { n: report.held.length })));
  }
  if (report.errors.length) {
    box.append(
      el("p", {}, t("import_errors", { n: report.errors.length })),
      el("ul", {}, report.errors.map((e) => el("li", {}, `${t("line", { n: e.line })}: ${e.message}`))),
    );
  }
  box.hidden = false;
}

async function showCandidates(event) {
  event.preventDefault();
  clear($("candidates-error"));
  const jobId = $("posting").value;
  if (!jobId) return;
  const chosen = postings.find((job) => job.id === jobId);
  if (chosen && chosen.review && ["held", "rejected"].includes(chosen.review.status)) {
    showMessage($("candidates-error"), t("review_no_candidates"));
    return;
  }
  await busy($("show-candidates"), $("candidates-status"), t("ranking"), async () => {
    try {
      const ranking = await api("POST", `/v1/jobs/${encodeURIComponent(jobId)}/candidates`, { body: { k: 20, filters: readFilters() }, token: key });
      const posting = postings.find((job) => job.id === jobId);
      lastRanking = { ...ranking, title: posting ? posting.title : jobId };
      renderCandidates();
      $("candidates-count").focus();
    } catch (error) {
      showError($("candidates-error"), error);
    }
  });
}

/** The employer's filters: language (and level), a country worked in, years abroad. */
function readFilters() {
  const language = $("filter-language").value || null;
  const level = $("filter-level").value.trim() || null;
  const years = $("filter-years").value.trim();
  return {
    language,
    min_level: language ? level : null,
    worked_in: $("filter-country").value || null,
    min_years_abroad: years ? Number(years) : null,
  };
}

function renderCandidates() {
  if (!lastRanking) return;
  const results = lastRanking.results;
  $("candidates-count").textContent = results.length
    ? t("candidates_count", { n: results.length, title: lastRanking.title })
    : t("no_candidates");
  // e.g. that a programme's priority rules are part of the ranking (never for whom)
  $("candidates-notes").textContent = (lastRanking.notes || []).join(" ");
  $("candidates").replaceChildren(...results.map(candidateCard));
}

function candidateCard(result, position) {
  const person = result.candidate;
  const facts = [
    person.years_experience != null ? t("experience_years", { n: person.years_experience }) : null,
    person.province,
    person.education,
    person.languages.map((l) => [l.language, l.certificate, l.level].filter(Boolean).join(" ")).join(", ") || null,
    person.willing_to_work_abroad ? t("open_to_abroad") : null,
    person.willing_to_relocate ? t("open_to_relocate") : null,
    ...(person.overseas || []).map((work) => t("worked_abroad", {
      country: t(`country_${work.country}`) === `country_${work.country}` ? work.country : t(`country_${work.country}`),
      years: work.years,
      certificates: work.certificates.map((c) => [c.name, c.level].filter(Boolean).join(" ")).join(", "),
    })),
  ].filter(Boolean);
  return el(
    "li",
    { class: "card candidate", "data-candidate-id": person.id },
    el("h3", {}, `${position + 1}. ${person.former_position || t("candidate")}`),
    facts.length ? el("p", { class: "meta" }, facts.join(" · ")) : null,
    el("p", { class: "score" }, `${t("fit")}: `, el("strong", {}, scoreText(result.score))),
    el("h4", {}, t("why")),
    el("ul", { class: "reasons" }, result.explanation.reasons.map((reason) => el("li", {}, reason))),
    el("div", { class: "skills matched-skills" }, el("h4", {}, t("matched_skills")), skillList(result.explanation.matched_skills, "matched")),
    el("div", { class: "skills missing-skills" }, el("h4", {}, t("missing_skills")), skillList(result.explanation.missing_skills, "missing")),
    inviteForm(person),
  );
}

/** Invite this candidate to the chosen posting, with a short message. */
function inviteForm(person) {
  return messageForm({
    css: "invite", id: `invite-${person.id}`, summary: t("invite_summary"), hint: t("invite_hint"),
    label: t("invite_message"), button: t("invite_button"), needText: t("invite_need_message"), sent: t("invite_sent"),
    send: (message) => api("POST", `/v1/jobs/${encodeURIComponent($("posting").value)}/invitations`, {
      body: { candidate_id: person.id, message }, token: key,
    }),
  });
}

/** The chosen posting's invitations (with the contact of those who accepted) and applications. */
async function showConnections() {
  clear($("connections-error"));
  const jobId = $("posting").value;
  if (!jobId) return;
  const path = `/v1/jobs/${encodeURIComponent(jobId)}`;
  try {
    const [invitations, applications] = await Promise.all([
      api("GET", `${path}/invitations`, { token: key }),
      api("GET", `${path}/applications`, { token: key }),
    ]);
    const contact = (shared) => (shared && (shared.name || shared.contact)
      ? el("p", { class: "shared" }, `${t("shared_contact")}: ${[shared.name, shared.contact].filter(Boolean).join(" · ")}`)
      : null);
    $("sent-invitations").replaceChildren(...(invitations.results.length ? invitations.results.map((invitation) => el(
      "li", { class: "card invitation", "data-candidate-id": invitation.candidate_id, "data-status": invitation.status },
      el("p", {}, `${t("candidate")} ${invitation.candidate_id.slice(0, 8)} — ${t(`invitation_${invitation.status}_employer`)}`),
      contact(invitation.shared),
    )) : [el("li", {}, t("no_invitations_sent"))]));
    $("received-applications").replaceChildren(...(applications.results.length ? applications.results.map((application) => el(
      "li", { class: "card application", "data-candidate-id": application.candidate_id },
      el("p", {}, `${application.candidate?.former_position || t("candidate")} — ${t(`application_${application.status}`)}`),
      application.message ? el("blockquote", {}, application.message) : null,
      contact(application.shared),
    )) : [el("li", {}, t("no_applications_received"))]));
    $("connections").hidden = false;
  } catch (error) {
    showError($("connections-error"), error);
  }
}

setupLanguage(() => {
  fillPostings($("posting").value);
  if (lastPosted) reviewBox($("post-review"), lastPosted);
  if (lastRanking) $("show-candidates").click(); // reasons come back in the new language
});
loadProvinces($("job-province")).catch(() => {});
$("key-form").addEventListener("submit", useKey);
$("forget-key").addEventListener("click", () => {
  lock();
  $("api-key").value = "";
});
$("job-form").addEventListener("submit", postJob);
$("import-form").addEventListener("submit", importFile);
$("candidates-form").addEventListener("submit", showCandidates);
$("show-connections").addEventListener("click", showConnections);
$("posting").addEventListener("change", showPostingReview);
if (key) {
  $("api-key").value = key;
  unlock(key);
}
