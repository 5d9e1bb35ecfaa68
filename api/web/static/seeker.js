// The job seeker page: describe yourself, see ranked jobs with reasons and skills, programmes,
// career moves and skill gaps; save the profile with consent; view or delete it with the token.
import {
  api, busy, clear, el, getLang, loadProvinces, messageForm, scoreText, setupLanguage, showError,
  showMessage, skillLabel, skillList, t,
} from "./common.js";

const $ = (id) => document.getElementById(id);
let lastProfile = null; // the profile behind the results on screen, for "save"
let lastResults = null; // the API answers on screen

function readProfile() {
  const languages = [];
  for (const row of document.querySelectorAll("#languages .language-row")) {
    const language = row.querySelector(".language").value;
    if (!language) continue;
    const certificate = row.querySelector(".certificate").value || null;
    const level = row.querySelector(".level").value.trim() || null;
    languages.push({ language, certificate, level });
  }
  const birthYear = $("birth-year").value.trim();
  const ticked = (id) => [...document.querySelectorAll(`#${id} input:checked`)].map((box) => box.value);
  return {
    text: $("cv").value.trim(),
    former_position: $("former-position").value.trim() || null,
    province: $("province").value || null,
    commune: $("commune").value || null,
    languages,
    willing_to_work_abroad: $("abroad").checked,
    willing_to_relocate: $("relocate").checked,
    change_field: $("change-field").checked ? true : null,
    birth_year: birthYear ? Number(birthYear) : null,
    education: $("education").value || null,
    health_declaration: $("health").value || null,
    priority_groups: ticked("priority-groups"),
    disqualifiers: ticked("disqualifiers"),
    overseas_contracts: readContract(),
  };
}

/** The past contract abroad, when a country is chosen (the API says what is missing). */
function readContract() {
  const country = $("ov-country").value;
  if (!country) return [];
  const value = (id) => $(id).value.trim() || null;
  const certificate = value("ov-certificate");
  return [{
    country,
    programme: value("ov-programme"),
    sector: value("ov-sector"),
    start: value("ov-start"),
    end: value("ov-end"),
    returned: value("ov-returned"),
    tasks: $("ov-tasks").value.trim(),
    certificates: certificate ? [{ name: certificate, level: value("ov-level") }] : [],
  }];
}

async function search(event) {
  event.preventDefault();
  const box = $("form-error");
  clear(box);
  const profile = readProfile();
  const tasks = profile.overseas_contracts.map((contract) => contract.tasks).join("\n").trim();
  if (!profile.text && !profile.former_position && !tasks) {
    showMessage(box, t("need_text"));
    $("cv").focus();
    return;
  }
  // The province, willingness to move and to go abroad are part of the profile: the ranking
  // weighs them (and explains it) rather than hiding jobs elsewhere.
  const origin = profile.former_position || profile.text.slice(0, 2000) || tasks.slice(0, 2000);
  await busy($("find"), $("status"), t("searching"), async () => {
    const [jobs, transitions, gaps, programmes] = await Promise.allSettled([
      api("POST", "/v1/recommendations/jobs", { body: { profile, k: 10 } }),
      api("POST", "/v1/transitions", { body: { text: origin, k: 5 } }),
      api("POST", "/v1/skill-gaps", { body: { profile, k: 6 } }),
      profile.willing_to_work_abroad
        ? api("POST", "/v1/programmes/eligibility", { body: { profile } })
        : Promise.resolve(null),
    ]);
    if (jobs.status === "rejected") {
      showError(box, jobs.reason);
      box.focus();
      return;
    }
    lastProfile = profile;
    lastResults = { jobs, transitions, gaps, programmes };
    render();
    $("results-heading").focus();
  });
}

function render() {
  if (!lastResults) return;
  const { jobs, transitions, gaps, programmes } = lastResults;
  renderJobs(jobs.value.results, jobs.value.held_back);
  renderProgrammes(programmes);
  renderCareers(transitions, gaps);
  $("save-section").hidden = false;
}

function renderJobs(results, heldBack) {
  $("results").hidden = false;
  $("results-count").textContent = results.length ? t("results_count", { n: results.length }) : t("no_jobs");
  // Programme postings a declared fact rules out are not shown: say how many, and why.
  $("held-back").replaceChildren(...heldBack.map((held) => el("li", { class: "held-back", "data-programme": held.programme_id }, held.message)));
  $("held-back").hidden = !heldBack.length;
  $("jobs").replaceChildren(...results.map(jobCard));
}

function jobCard(result, position) {
  const job = result.job;
  const place = job.remote ? t("remote") : [job.province, job.country !== "VN" ? job.country : null].filter(Boolean).join(", ");
  const meta = [job.employer, place, salary(job)].filter(Boolean).join(" · ");
  const card = el(
    "li",
    { class: "card job", "data-job-id": job.id },
    el("h3", {}, `${position + 1}. ${job.title}`),
    meta ? el("p", { class: "meta" }, meta) : null,
    el("p", { class: "score" }, `${t("fit")}: `, el("strong", {}, scoreText(result.score))),
    el("h4", {}, t("why")),
    el("ul", { class: "reasons" }, result.explanation.reasons.map((reason) => el("li", {}, reason))),
    (result.explanation.cautions || []).length
      ? el("ul", { class: "cautions" }, result.explanation.cautions.map((caution) => el("li", {}, `⚠ ${caution}`)))
      : null,
    el("div", { class: "skills matched-skills" }, el("h4", {}, t("matched_skills")), skillList(result.explanation.matched_skills, "matched")),
    el("div", { class: "skills missing-skills" }, el("h4", {}, t("missing_skills")), skillList(result.explanation.missing_skills, "missing")),
  );
  if (result.programme) card.append(programmeBlock(result.programme, result.eligibility));
  if (job.commercial) card.append(commercialBlock(job.commercial));
  card.append(applyForm(job));
  card.append(reportForm(job));
  return card;
}

/** The saved profile's id and token (in "manage"), or null. */
function savedCredentials() {
  const id = $("manage-id").value.trim();
  const token = $("manage-token").value.trim();
  return id && token ? { id, token } : null;
}

/** "Apply": for a saved profile, choosing what the employer may see. */
function applyForm(job) {
  const check = (id, label) => {
    const box = el("input", { id, type: "checkbox" });
    box.checked = true;
    return [box, el("div", { class: "check" }, box, el("label", { for: id }, label))];
  };
  const [shareName, nameRow] = check(`apply-name-${job.id}`, t("share_name"));
  const [shareContact, contactRow] = check(`apply-contact-${job.id}`, t("share_contact"));
  return messageForm({
    css: "apply", id: `apply-message-${job.id}`, summary: t("apply_summary"), hint: t("apply_hint"),
    extra: [nameRow, contactRow], label: t("apply_message"), button: t("apply_button"), sent: t("apply_sent"),
    send: async (message, status) => {
      const given = savedCredentials();
      if (!given) {
        showMessage(status, t("apply_need_saved"));
        return false;
      }
      await api("POST", `/v1/candidates/${encodeURIComponent(given.id)}/applications`, {
        body: { job_id: job.id, message, share_name: shareName.checked, share_contact: shareContact.checked },
        token: given.token,
      });
      return true;
    },
  });
}

/** A posting by a licensed enterprise: the legal ceiling on what the worker may be charged. */
function commercialBlock(commercial) {
  const fact = { verified: commercial.verified, url: commercial.source, checked: null };
  return el(
    "p",
    { class: "commercial fact", "data-commercial": "true", "data-verified": String(commercial.verified) },
    el("strong", {}, `${t("commercial")}: `),
    getLang() === "vi" ? commercial.fee_ceiling_vi : commercial.fee_ceiling_en,
    ` (${commercial.law})`,
    checkMark(fact),
  );
}

/** "Report this posting": a short reason, sent without any key; the admins check it. */
function reportForm(job) {
  return messageForm({
    css: "report", id: `report-${job.id}`, summary: t("report_summary"), label: t("report_label"),
    button: t("report_button"), needText: t("report_need_reason"), sent: t("report_sent"),
    send: (reason) => api("POST", `/v1/jobs/${encodeURIComponent(job.id)}/report`, { body: { reason } }),
  });
}

function salary(job) {
  if (job.salary_min == null && job.salary_max == null) return null;
  const format = (value) => value.toLocaleString(getLang() === "vi" ? "vi-VN" : "en-GB");
  const range = [job.salary_min, job.salary_max].filter((v) => v != null).map(format).join("–");
  return `${t("salary")} ${range} ${job.currency}${t("per_month")}`;
}

/** A fact nobody checked against a source says so; a checked one links to where and when. */
function checkMark(fact) {
  if (!fact.verified) return el("span", { class: "unverified" }, ` (${t("unverified")})`);
  const when = fact.checked ? ` ${t("checked_on")} ${fact.checked}` : "";
  return fact.url ? el("a", { class: "verified", href: fact.url, rel: "noopener" }, ` (${t("source")}${when})`) : null;
}

function factRow(key, fact) {
  if (!fact) return null;
  return el(
    "p",
    { class: "fact", "data-fact": key, "data-verified": String(fact.verified) },
    el("strong", {}, `${t(key)}: `),
    fact.text,
    checkMark(fact),
  );
}

function programmeBlock(programme, eligibility) {
  return el(
    "div",
    { class: "programme" },
    el("p", {}, el("strong", {}, `${t("programme")}: `), `${programme.name} (${programme.country})`),
    // the verdict first: what rules it out, what is still to check and how, what is met
    eligibility ? eligibilityBlock(eligibility) : null,
    // a way back that this person's past contract opens (EPS re-entry, ...), cited
    (eligibility?.reentry ?? []).map((fact) => factRow("reentry", fact)),
    ["intake", "contract", "pay", "costs", "recovery", "support"].map((key) => factRow(key, programme[key])),
    programme.priority_groups.length
      ? el("p", {}, el("strong", {}, `${t("priority_groups")}: `), programme.priority_groups.join("; "))
      : null,
    programme.excludes.length
      ? el("p", { class: "excludes" }, el("strong", {}, `${t("excludes")}: `), programme.excludes.join("; "))
      : null,
  );
}

const STATE = {
  met: ["met", "requirement_met"],
  not_met: ["unmet", "requirement_unmet"],
  to_check: ["to-check", "requirement_to_check"],
};

function requirementRow(requirement) {
  const [css, badge] = STATE[requirement.status];
  let route = null;
  if (requirement.status === "not_met") route = ` — ${t("how_to_meet")}: ${requirement.route || t("cannot_meet")}`;
  if (requirement.status === "to_check" && requirement.route) route = ` — ${t("how_to_check")}: ${requirement.route}`;
  return el(
    "li",
    { class: css, "data-kind": requirement.kind, "data-verified": String(requirement.verified) },
    el("span", { class: "badge" }, t(badge)),
    " ",
    requirement.message,
    route ? el("span", { class: "route" }, route) : null,
    requirement.verified ? null : el("span", { class: "unverified" }, ` (${t("unverified")})`),
  );
}

/** Not met first (what rules it out), then what to check (and how), then what is met. */
function eligibilityBlock(eligibility) {
  const css = { eligible: "eligible", eligible_if: "eligible-if", not_eligible: "not-eligible" }[eligibility.status];
  return el(
    "div",
    { class: `eligibility ${css}`, "data-status": eligibility.status },
    el("p", {}, el("strong", {}, t(eligibility.status))),
    el("ul", {}, [...eligibility.unmet, ...eligibility.to_check, ...eligibility.met].map(requirementRow)),
  );
}

function renderProgrammes(outcome) {
  const section = $("programmes-section");
  if (!outcome.value && outcome.status === "fulfilled") {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  if (outcome.status === "rejected") {
    $("programmes").replaceChildren(failed(outcome.reason));
    return;
  }
  $("programmes").replaceChildren(
    ...outcome.value.results.map((eligibility) =>
      el(
        "li",
        { class: "card programme-card", "data-programme": eligibility.programme_id },
        el("h3", {}, eligibility.programme.name),
        programmeBlock(eligibility.programme, eligibility),
      ),
    ),
  );
}

/** One checkbox per priority group the programme rules name, labelled in the page's language. */
let priorityGroups = [];
function renderPriorityGroups() {
  const box = $("priority-groups");
  const ticked = new Set([...box.querySelectorAll("input:checked")].map((input) => input.value));
  const legend = box.querySelector("legend");
  box.replaceChildren(
    legend,
    ...priorityGroups.map((group) => {
      const id = `pg-${group.id}`;
      const input = el("input", { id, type: "checkbox", value: group.id });
      input.checked = ticked.has(group.id);
      return el("div", { class: "check" }, input, el("label", { for: id }, getLang() === "vi" ? group.name_vi : group.name_en));
    }),
  );
}

let programmes = []; // the programme list, for the contract's programme choice

async function loadPriorityGroups() {
  const data = await api("GET", "/v1/programmes");
  priorityGroups = data.priority_groups;
  programmes = data.programmes;
  renderPriorityGroups();
  renderContractProgrammes();
}

/** The programmes of the contract's country (or none: a contract outside them). */
function renderContractProgrammes() {
  const country = $("ov-country").value;
  $("ov-details").hidden = !country;
  const select = $("ov-programme");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, t("ov_no_programme")));
  for (const programme of programmes.filter((p) => p.destination === country)) {
    const name = getLang() === "vi" ? programme.name_vi : programme.name_en;
    select.append(el("option", { value: programme.id }, name));
  }
  select.value = [...select.options].some((option) => option.value === chosen) ? chosen : "";
}

/** Certificate names the service maps, offered as the person types. */
async function loadCertificates() {
  const data = await api("GET", "/v1/certificates");
  $("certificate-names").replaceChildren(
    ...data.certificates.map((c) => el("option", { value: c.name }, getLang() === "vi" ? c.label_vi : c.label_en)),
  );
}

function renderCareers(transitions, gaps) {
  $("careers").hidden = false;
  if (transitions.status === "fulfilled") {
    const origin = transitions.value.origin;
    $("origin").textContent = t("transitions_origin", { label: (getLang() === "vi" && origin.label_vi) || origin.label });
    $("transitions").replaceChildren(...transitions.value.transitions.map(transitionCard));
  } else {
    $("origin").textContent = "";
    $("transitions").replaceChildren(failed(transitions.reason));
  }
  if (gaps.status === "fulfilled") {
    $("gaps").replaceChildren(...gaps.value.gaps.map(gapCard));
  } else {
    $("gaps").replaceChildren(failed(gaps.reason));
  }
}

function transitionCard(move) {
  return el(
    "li",
    { class: "card transition" },
    el("h3", {}, (getLang() === "vi" && move.label_vi) || move.label),
    el("p", {}, move.reason),
    move.open_postings ? el("p", { class: "meta" }, t("open_postings", { n: move.open_postings })) : null,
    el("div", { class: "skills" }, el("h4", {}, t("carries_over")), skillList(move.shared_skills, "matched")),
    el("div", { class: "skills" }, el("h4", {}, t("to_learn")), skillList(move.missing_skills, "missing")),
  );
}

function gapCard(gap) {
  const training = getLang() === "vi" ? gap.training.label_vi : gap.training.label_en;
  return el(
    "li",
    { class: "card gap" },
    el("h3", {}, skillLabel(gap)),
    el("p", { class: "meta" }, t("unlocks", { n: gap.unlocks, m: gap.improves })),
    el("p", {}, gap.reason),
    el("p", {}, training),
  );
}

function failed(error) {
  const item = el("li", { class: "error", role: "alert" });
  showError(item, error);
  return item;
}

async function save(event) {
  event.preventDefault();
  const box = $("save-error");
  clear(box);
  if (!lastProfile) return;
  const body = {
    ...lastProfile,
    consent_to_be_found: $("consent").checked,
    consent_to_centres: $("consent-centres").checked,
    name: $("name").value.trim() || null,
    contact: $("contact").value.trim() || null,
  };
  await busy($("save"), $("save-status"), t("saving"), async () => {
    try {
      const created = await api("POST", "/v1/candidates", { body });
      $("saved-id").textContent = created.candidate.id;
      $("saved-token").textContent = created.token;
      $("saved").hidden = false;
      $("manage-id").value = created.candidate.id;
      $("manage-token").value = created.token;
    } catch (error) {
      showError(box, error);
    }
  });
}

function credentials() {
  const id = $("manage-id").value.trim();
  const token = $("manage-token").value.trim();
  if (!id || !token) {
    showMessage($("manage-error"), t("need_id_token"));
    return null;
  }
  return { id, token };
}

async function viewProfile(event) {
  event.preventDefault();
  clear($("manage-error"));
  clear($("manage-ok"));
  $("profile-view").hidden = true;
  const given = credentials();
  if (!given) return;
  await busy($("view-profile"), $("manage-status"), t("loading_profile"), async () => {
    try {
      const profile = await api("GET", `/v1/candidates/${encodeURIComponent(given.id)}`, { token: given.token });
      showProfile(profile);
      await showConnections(given);
    } catch (error) {
      showError($("manage-error"), error);
    }
  });
}

/** The profile's invitations (to accept, decline or withdraw) and applications. */
async function showConnections(given) {
  const path = `/v1/candidates/${encodeURIComponent(given.id)}`;
  const [invitations, applications] = await Promise.all([
    api("GET", `${path}/invitations`, { token: given.token }),
    api("GET", `${path}/applications`, { token: given.token }),
  ]);
  $("invitations").replaceChildren(
    ...(invitations.results.length ? invitations.results.map((invitation) => invitationCard(invitation, given)) : [el("li", {}, t("no_invitations"))]),
  );
  $("applications").replaceChildren(
    ...(applications.results.length
      ? applications.results.map((application) => el(
        "li", { class: "card application", "data-application-id": application.id },
        el("h4", {}, application.job_title), el("p", {}, t(`application_${application.status}`)),
      ))
      : [el("li", {}, t("no_applications"))]),
  );
  $("connections").hidden = false;
}

function invitationCard(invitation, given) {
  const status = el("p", { class: "status", role: "status", "aria-live": "polite", hidden: "" });
  const decide = (decision) => async () => {
    try {
      await api("POST", `/v1/candidates/${encodeURIComponent(given.id)}/invitations/${encodeURIComponent(invitation.id)}`, {
        body: { decision }, token: given.token,
      });
      await showConnections(given);
    } catch (error) {
      showError(status, error);
    }
  };
  const buttons = [];
  if (invitation.status === "pending") {
    const accept = el("button", { type: "button", class: "primary" }, t("invitation_accept"));
    const decline = el("button", { type: "button" }, t("invitation_decline"));
    accept.addEventListener("click", decide("accept"));
    decline.addEventListener("click", decide("decline"));
    buttons.push(accept, decline);
  } else if (invitation.status === "accepted") {
    const withdraw = el("button", { type: "button", class: "danger" }, t("invitation_withdraw"));
    withdraw.addEventListener("click", decide("withdraw"));
    buttons.push(withdraw);
  }
  return el(
    "li",
    { class: "card invitation", "data-invitation-id": invitation.id, "data-status": invitation.status },
    el("h4", {}, invitation.job_title),
    el("p", { class: "meta" }, invitation.employer || ""),
    el("blockquote", {}, invitation.message),
    el("p", { class: "invitation-status" }, t(`invitation_${invitation.status}`)),
    buttons.length ? el("div", { class: "buttons" }, ...buttons) : null,
    status,
  );
}

/** The chosen province's communes since July 2025 (the cited list), never free text. */
async function loadCommunes() {
  const select = $("commune");
  select.replaceChildren(select.options[0]);
  const province = $("province").value;
  select.disabled = !province;
  if (!province) return;
  const data = await api("GET", `/v1/provinces/${encodeURIComponent(province)}/communes`);
  for (const commune of data.communes) select.append(el("option", { value: commune.name }, commune.name));
}

function showProfile(profile) {
  const rows = [
    [t("former_position"), profile.former_position],
    [t("province_label"), profile.province],
    [t("commune_label"), profile.commune],
    [t("profile_consent"), profile.consent_to_be_found ? t("yes") : t("no")],
    [t("profile_consent_centres"), profile.consent_to_centres ? t("yes") : t("no")],
    [t("name_label"), profile.name],
    [t("contact_label"), profile.contact],
  ].filter(([, value]) => value);
  $("profile-view").replaceChildren(
    el("dl", {}, rows.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)])),
    profile.text ? el("blockquote", {}, profile.text) : null,
    profile.consent_to_centres ? withdrawCentres(profile) : null,
    el("h3", {}, t("profile_skills")),
    skillList(profile.skills_found, "matched", 30),
  );
  $("profile-view").hidden = false;
}

/** Withdraw the consent given to employment service centres: the profile is saved without it. */
function withdrawCentres(profile) {
  const button = el("button", { type: "button", id: "withdraw-centres" }, t("withdraw_centres"));
  button.addEventListener("click", async () => {
    const given = credentials();
    if (!given) return;
    const kept = Object.fromEntries(Object.entries(profile).filter(([field]) => !DERIVED.has(field)));
    try {
      const saved = await api("PUT", `/v1/candidates/${encodeURIComponent(given.id)}`, {
        body: { ...kept, consent_to_centres: false }, token: given.token,
      });
      showProfile(saved);
      showMessage($("manage-ok"), t("centres_withdrawn"));
    } catch (error) {
      showError($("manage-error"), error);
    }
  });
  return button;
}

/** Fields of a stored profile that the service works out (not sent back when saving it). */
const DERIVED = new Set(["id", "former_province", "skills_found", "languages_abroad", "interested_in",
  "readiness", "created_at", "updated_at"]);

async function deleteProfile() {
  clear($("manage-error"));
  clear($("manage-ok"));
  const given = credentials();
  if (!given || !window.confirm(t("confirm_delete"))) return;
  await busy($("delete-profile"), $("manage-status"), t("loading_profile"), async () => {
    try {
      await api("DELETE", `/v1/candidates/${encodeURIComponent(given.id)}`, { token: given.token });
      $("profile-view").hidden = true;
      $("saved").hidden = true;
      showMessage($("manage-ok"), t("deleted"));
    } catch (error) {
      showError($("manage-error"), error);
    }
  });
}

// Reasons and labels come from the API in the page's language: ask again when it changes.
/** The language rows from their template, with ids that tie each label to its field. */
function addLanguageRows(count) {
  const template = $("language-row");
  for (let n = 1; n <= count; n += 1) {
    const row = template.content.cloneNode(true);
    for (const field of row.querySelectorAll("[data-id]")) field.id = `${field.dataset.id}-${n}`;
    for (const label of row.querySelectorAll("[data-for]")) label.htmlFor = `${label.dataset.for}-${n}`;
    $("languages").append(row);
  }
}

addLanguageRows(2);
setupLanguage(() => {
  renderPriorityGroups();
  renderContractProgrammes();
  if (lastResults) $("profile-form").requestSubmit();
});
loadProvinces($("province")).catch((error) => showError($("form-error"), error));
$("province").addEventListener("change", () => loadCommunes().catch((error) => showError($("form-error"), error)));
loadPriorityGroups().catch((error) => showError($("form-error"), error));
loadCertificates().catch((error) => showError($("form-error"), error));
$("ov-country").addEventListener("change", renderContractProgrammes);
$("profile-form").addEventListener("submit", search);
$("save-form").addEventListener("submit", save);
$("manage-form").addEventListener("submit", viewProfile);
$("delete-profile").addEventListener("click", deleteProfile);
