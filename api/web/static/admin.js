// The admin page: the fairness audit of the served models (start it, follow its progress,
// read its tables and plot). The admin key stays in this tab only (sessionStorage).
import { api, clear, el, getLang, keyFormHandler, setupLanguage, showError, showMessage, t } from "./common.js";

const $ = (id) => document.getElementById(id);
const KEY = "matcher.adminKey";
let key = sessionStorage.getItem(KEY);
let last = null;
let timer = null;

const useKey = keyFormHandler((given) => unlock(given));

async function unlock(given) {
  try {
    const status = await api("GET", "/v1/admin/fairness", { token: given });
    key = given;
    sessionStorage.setItem(KEY, key);
    $("work").hidden = false;
    await show(status);
  } catch (error) {
    key = null;
    sessionStorage.removeItem(KEY);
    $("work").hidden = true;
    showError($("key-error"), error);
    $("key-error").focus();
  }
}

async function runAudit(event) {
  event.preventDefault();
  clear($("audit-error"));
  try {
    const preset = $("audit-preset").value;
    await show(await api("POST", `/v1/admin/fairness?preset=${preset}`, { token: key }));
  } catch (error) {
    showError($("audit-error"), error);
  }
}

async function poll() {
  try {
    await show(await api("GET", "/v1/admin/fairness", { token: key }));
  } catch (error) {
    showError($("audit-error"), error);
  }
}

/** The audit's state, its progress while it runs, and the last report. */
async function show(status) {
  clearTimeout(timer);
  const running = status.state === "running";
  $("run-audit").disabled = running;
  const bar = $("audit-progress");
  bar.hidden = !running;
  if (running) {
    bar.max = Math.max(status.total || 1, 1);
    bar.value = status.done || 0;
    $("audit-state").textContent = t("audit_running", { phase: status.phase || "", done: status.done || 0, total: status.total || 0 });
    timer = setTimeout(poll, 2000);
  } else if (status.state === "failed") {
    $("audit-state").textContent = "";
    showMessage($("audit-error"), `${t("audit_failed")} ${status.error || ""}`);
  } else {
    $("audit-state").textContent = status.state === "done" ? t("audit_done", { seconds: status.seconds ?? "?" }) : t("audit_idle");
  }
  if (status.report && (!last || last.created_at !== status.report.created_at)) {
    last = status.report;
    await drawPlot();
  }
  if (last) renderReport(last);
}

async function drawPlot() {
  const response = await fetch("/v1/admin/fairness/plot.svg", { headers: { Authorization: `Bearer ${key}` } });
  if (!response.ok) return;
  const text = await response.text();
  const img = $("audit-plot");
  img.src = `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(text)))}`;
  img.alt = t("plot_alt");
  img.hidden = false;
}

const pct = (x) => `${Math.round(x * 100)}%`;
const num = (x, d = 3) => (x === null || x === undefined ? "–" : Number(x).toFixed(d));

function table(id, head, rows) {
  $(id).replaceChildren(
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell) => el("td", {}, cell))))),
  );
}

function renderReport(report) {
  $("report").hidden = false;
  const locale = getLang() === "vi" ? "vi-VN" : "en-GB";
  $("report-meta").textContent = t("report_meta", {
    when: new Date(report.created_at).toLocaleString(locale),
    preset: report.preset,
    models: Object.entries(report.served).map(([k, v]) => `${k} ${v}`).join(", "),
  });
  const cf = [];
  for (const [direction, rows] of Object.entries(report.counterfactual)) {
    for (const [attribute, row] of Object.entries(rows)) {
      cf.push([t(`direction_${direction}`), t(`attr_${attribute}`), String(row.lists), pct(row.changed_share),
        num(row.rbo_mean), num(row.rbo_min), num(row.max_score_change, 4)]);
    }
  }
  table("counterfactual-table", [t("col_direction"), t("col_attribute"), t("col_lists"), t("col_changed"),
    t("col_rbo_mean"), t("col_rbo_min"), t("col_score_change")], cf);
  const impact = Object.entries(report.parity).map(([attribute, found]) => {
    const ratio = found.impact_ratio;
    const flag = ratio !== null && ratio < 0.8 ? ` ⚠ ${t("below_four_fifths")}` : "";
    return [t(`attr_${attribute}`), `${num(ratio)}${flag}`, num(found.map_gap)];
  });
  table("impact-table", [t("col_attribute"), t("col_impact_ratio"), t("col_map_gap")], impact);
  const groups = [];
  for (const [attribute, found] of Object.entries(report.parity)) {
    for (const [group, row] of Object.entries(found.groups)) {
      // a group id the page has a name for (gender, age band, priority) is shown by that name;
      // regions are already names
      const name = t(`group_${group}`) === `group_${group}` ? group : t(`group_${group}`);
      groups.push([t(`attr_${attribute}`), row.compared ? name : `${name} (${t("too_few")})`, String(row.members),
        num(row.map), num(row.exposure), pct(row.selection_rate)]);
    }
  }
  table("parity-table", [t("col_attribute"), t("col_group"), t("col_members"), "MAP", t("col_exposure"),
    t("col_selection")], groups);
}

setupLanguage(() => {
  if (last) renderReport(last);
  if (last) $("audit-plot").alt = t("plot_alt");
});
$("key-form").addEventListener("submit", useKey);
$("audit-form").addEventListener("submit", runAudit);
if (key) {
  $("api-key").value = key;
  unlock(key);
}
