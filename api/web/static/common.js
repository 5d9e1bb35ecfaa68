// Shared by both pages: the page language, calls to the API, readable errors, small DOM helpers.
// Plain ES modules: no build step and nothing loaded from the internet.
import { STRINGS } from "./i18n.js";

const LANG_KEY = "matcher.lang";
let lang = initialLang();

function initialLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "vi" || asked === "en") return asked;
  return localStorage.getItem(LANG_KEY) === "en" ? "en" : "vi";
}

export function getLang() {
  return lang;
}

/** The string `key` in the page's language, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.vi[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

function applyLang() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  document.title = t(document.body.dataset.titleKey);
  const toggle = document.getElementById("lang-toggle");
  toggle.textContent = t("switch_language");
  toggle.lang = lang === "vi" ? "en" : "vi";
}

/** Translate the page now and whenever the language button is pressed (then `onChange`). */
export function setupLanguage(onChange) {
  applyLang();
  document.getElementById("lang-toggle").addEventListener("click", () => {
    lang = lang === "vi" ? "en" : "vi";
    localStorage.setItem(LANG_KEY, lang);
    applyLang();
    if (onChange) onChange();
  });
}

export class ApiError extends Error {
  constructor(status, code, detail, problems = [], body = null) {
    super(detail || code);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.problems = problems;
    this.body = body; // the parsed answer, when it says more than an error (a bulk report)
  }
}

/**
 * Call the API. `body` is sent as JSON unless `contentType` is given (then as is); `token` as
 * a bearer token; the page language goes along as ?lang= so reasons come back in it.
 * Resolves to the parsed JSON (null for 204); rejects with an ApiError.
 */
export async function api(method, path, { body, token, contentType } = {}) {
  const url = new URL(path, location.origin);
  url.searchParams.set("lang", lang);
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    payload = contentType ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, "network", "");
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || "http_error", error.message || "", error.problems || [], data);
  }
  return data;
}

const MESSAGE_BY_STATUS = {
  0: "error_network",
  401: "error_unauthorized",
  403: "error_forbidden",
  404: "error_not_found",
  409: "error_conflict",
  413: "error_too_large",
  415: "error_invalid",
  422: "error_invalid",
  503: "error_starting",
};

/** A sentence a person understands, in the page's language (the API's detail follows it). */
export function errorMessage(error) {
  if (!(error instanceof ApiError)) return t("error_unexpected");
  return t(MESSAGE_BY_STATUS[error.status] || (error.status >= 500 ? "error_server" : "error_invalid"));
}

/** Show `error` in the alert element `box`: the readable sentence, then the API's detail. */
export function showError(box, error) {
  box.replaceChildren(el("span", { class: "error-text" }, errorMessage(error)));
  if (error instanceof ApiError && error.detail) {
    box.append(" ", el("span", { class: "error-detail" }, `${t("error_detail")}: ${error.detail}`));
  }
  box.hidden = false;
}

export function showMessage(box, text) {
  box.replaceChildren(text);
  box.hidden = false;
}

export function clear(box) {
  box.replaceChildren();
  box.hidden = true;
}

/**
 * Run `work` with `button` disabled and `status` announcing `message` (a spinner while the
 * model works); the status is emptied afterwards whatever happens.
 */
export async function busy(button, status, message, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  status.replaceChildren(el("span", { class: "spinner", "aria-hidden": "true" }), " ", message);
  status.hidden = false;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    status.replaceChildren();
    status.hidden = true;
  }
}

/** The key form's submit (employer and admin pages): the key typed into #api-key, checked
 * by `unlock(key)` with #use-key busy; an empty key is told off in #key-error. */
export function keyFormHandler(unlock, before = () => {}) {
  return async (event) => {
    event.preventDefault();
    const box = document.getElementById("key-error");
    clear(box);
    before();
    const given = document.getElementById("api-key").value.trim();
    if (!given) {
      showMessage(box, t("error_unauthorized"));
      return;
    }
    await busy(document.getElementById("use-key"), document.getElementById("key-status"),
      t("checking_key"), () => unlock(given));
  };
}

/** Build an element: attributes (class, for, data-*, aria-*…) and children (text or nodes). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A skill's label in the page language. */
/** A skill's name in the page language: in Vietnamese, a machine-suggested name is marked
 * with *, and an English name (no Vietnamese one yet) is marked as such, as in the reasons. */
export function skillLabel(skill) {
  if (lang !== "vi") return skill.label;
  if (!skill.label_vi) return `${skill.label} (tiếng Anh)`;
  return skill.label_vi_status === "machine-suggested" ? `${skill.label_vi}*` : skill.label_vi;
}

/** Skill chips (`kind`: matched or missing; essential first, as the API sends them): the first
 * `limit`, then how many more (optional skills have a dashed border), or "none". */
export function skillList(skills, kind, limit = 8) {
  if (!skills.length) return el("span", { class: "none" }, t("none_listed"));
  const shown = skills.slice(0, limit).map((skill) =>
    el("li", { class: `chip ${kind}${skill.essential === false ? " optional" : ""}` }, skillLabel(skill)),
  );
  if (skills.length > limit) shown.push(el("li", { class: "more" }, t("and_more", { n: skills.length - limit })));
  return el("ul", { class: `chips ${kind}` }, shown);
}

/** A ranking score for display: relative within one list (higher fits better), not a percentage. */
export function scoreText(score) {
  return score.toLocaleString(getLang() === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 2, minimumFractionDigits: 2 });
}

/** Fill a <select> with the provinces (keeps its first, empty option). */
export async function loadProvinces(select) {
  const data = await api("GET", "/v1/provinces");
  for (const province of data.provinces) {
    select.append(el("option", { value: province.name }, province.name));
  }
}

/**
 * A folded form that sends one message (a report, an invitation, an application): its
 * summary, an optional hint and extra fields, a text box, a button, and a status line.
 * `send(text)` does the request; an empty text is refused when `needText` is given.
 */
export function messageForm({ css, id, summary, hint, extra = [], label, button, needText, sent, send }) {
  const box = el("details", { class: css }, el("summary", {}, summary));
  const text = el("textarea", { id, rows: "2", maxlength: "1000" });
  const status = el("p", { class: "status", role: "status", "aria-live": "polite", hidden: "" });
  const action = el("button", { type: "button" }, button);
  action.addEventListener("click", async () => {
    const value = text.value.trim();
    if (needText && !value) {
      showMessage(status, needText);
      text.focus();
      return;
    }
    try {
      if ((await send(value, status)) === false) return;
      showMessage(status, sent);
      action.disabled = true;
    } catch (error) {
      showError(status, error);
    }
  });
  box.append(hint ? el("p", { class: "hint" }, hint) : "", ...extra, el("label", { for: id }, label), text, action, status);
  return box;
}
