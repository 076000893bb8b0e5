// The operations console: one party's need-to-know picture, live.
//
// Everything shown comes from the service with the party's token: the REST snapshot at
// login, the WebSocket stream (resumed from its cursor after any disconnect), and a poll of
// /v1/picture and /v1/alerts every second for aircraft and alert geometry.
import { Api, ApiError, EventStream } from "./api.js";
import { Drawer } from "./draw.js";
import { h, fill } from "./dom.js";
import { applyI18n, currentLang, fmtAlt, fmtDuration, fmtNum, fmtTime, LANGS, setLang, t } from "./i18n.js";
import { L, levelColour, MapView } from "./map.js";

const TOKEN_KEY = "skyparley.token";
const LANG_KEY = "skyparley.lang";
const LOGGED_OUT_KEY = "skyparley.loggedOut"; // set when the token stopped working
const TRAIL_POINTS = 40;
const POLL_MS = 1000;

const $ = (id) => document.getElementById(id);

const state = {
  api: null,
  stream: null,
  party: null,
  protocol: null,
  offsetMs: 0, // the service's clock minus this browser's
  aircraft: [],
  trails: new Map(),
  alerts: new Map(), // alert_id -> alert (poll) merged with its last stream event
  alertAcks: new Map(), // alert_id -> [{party, at}] of every party of the alert
  inbox: new Map(),
  sent: new Map(),
  escalations: new Map(),
  findings: new Map(),
  notices: [],
  areas: [],
  zones: [],
  incidents: [],
  pollTimer: null,
  view: null,
  drawer: null,
  checked: null,
  draftVersion: 0, // bumped at every change of the draft
  canAct: true, // an operator (or admin) token: acknowledges, checks and files
};

const serverNow = () => Date.now() + state.offsetMs;

// ------------------------------------------------------------------ labels

function partyLabel(id) {
  const key = `party.${id}`;
  const text = t(key);
  return text === key ? id : text;
}

function langName(code) {
  return code ? t(`langname.${code}`) : "";
}

function band(lower, upper) {
  return t("band", { lower: fmtAlt(lower), upper: fmtAlt(upper) });
}

function window_(start, end) {
  return t("window", { start: fmtTime(start, { seconds: false }), end: fmtTime(end, { seconds: false }) });
}

function describeVolume(notice, v, i) {
  return `${notice.id} · ${t("volume", { n: i + 1 })} · ${band(v.lower, v.upper)} · ${window_(v.start, v.end)}`;
}

function describeArea(a) {
  return `${a.id} · ${t(`areakind.${a.kind}`)} · ${band(a.volume.lower, a.volume.upper)}`;
}

function describeFinding(f) {
  const parts = [t(`finding.${f.kind}`), otherLabel(f)];
  if (f.overlap) parts.push(band(f.overlap.lower, f.overlap.upper), window_(f.overlap.start, f.overlap.end));
  return parts.join(" · ");
}

function alertLabel(a) {
  const args = { level: t(`level.${a.level}`), dcpa: fmtNum(a.dcpa_nm ?? 0, 1) };
  if (!(a.time_to_los_s > 0)) return t("alert.cpaNow", args); // separation lost: "now"
  return t("alert.cpa", { ...args, ttl: fmtDuration(a.time_to_los_s) });
}

/** Who or what a finding is with: a party, the owner of a protected area, or a zone by its
 * name (the service gives a zone's id, and "a protected area of <party>"). */
function otherLabel(f) {
  if (f.kind === "zone_notice" || f.kind === "zone_closed") {
    const zone = state.zones.find((z) => z.id === f.other);
    if (zone) return zone.name;
  }
  return partyLabel(String(f.other ?? "").replace(/^a protected area of /, ""));
}

function aircraftLabel(ac) {
  return `${ac.id} ${fmtAlt(ac.alt_ft)}`;
}

// ------------------------------------------------------------------ login

async function login(token) {
  const api = new Api(token);
  const protocol = await api.get("/v1/protocol"); // throws on a bad token
  const health = await fetch("/v1/health").then((r) => r.json());
  state.offsetMs = Date.parse(health.time) - Date.now();
  state.api = api;
  state.protocol = protocol;
  const head = await api.get("/v1/ledger/head").catch(() => null);
  state.party = head?.party ?? guessParty(protocol);
  // a viewer is not offered what it may not do (acknowledge, check and file a notice)
  state.canAct = head?.role !== "viewer";
  document.body.dataset.role = head?.role ?? "";
  document.querySelector('.tabs button[data-tab="file"]').hidden = !state.canAct;
  sessionStorage.setItem(TOKEN_KEY, token);
  if (!sessionStorage.getItem(LANG_KEY)) {
    const mine = protocol.parties.find((p) => p.id === state.party);
    if (mine && LANGS.includes(mine.language)) await changeLang(mine.language);
  }
  $("login").hidden = true;
  $("console").hidden = false;
  $("logout").hidden = false;
  document.body.dataset.party = state.party;
  renderParty();
  if (!state.view) setupMap();
  state.view.map.invalidateSize();
  await loadSnapshot();
  state.stream = new EventStream(token, {
    onEvent,
    onState: (s) => {
      $("conn").dataset.state = s;
      $("conn").dataset.i18n = `conn.${s}`;
      $("conn").textContent = t(`conn.${s}`);
    },
    onAuthFailed: () => logout("revoked"),
  });
  state.stream.open();
  poll();
}

function guessParty(protocol) {
  return protocol.parties[0]?.id ?? "";
}

function logout(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  // the token stopped working (revoked): say so on the login form after the reload
  if (why === "revoked") sessionStorage.setItem(LOGGED_OUT_KEY, "1");
  state.stream?.close();
  clearTimeout(state.pollTimer);
  location.reload();
}

function renderParty() {
  const p = state.protocol?.parties.find((x) => x.id === state.party);
  $("party-name").textContent = state.party ? partyLabel(state.party) : "";
  $("party-name").title = p?.name ?? "";
}

// ------------------------------------------------------------------ snapshot

async function pages(box) {
  const out = [];
  let after = 0;
  for (;;) {
    const page = await state.api.get(`/v1/messages?box=${box}&after=${after}&limit=1000`);
    out.push(...page.messages);
    if (page.messages.length < 1000) return out;
    after = page.cursor;
  }
}

async function loadSnapshot() {
  const api = state.api;
  const [zones, inbox, sent, findings, incidents] = await Promise.all([
    api.get("/v1/zones"),
    pages("inbox"),
    pages("sent"),
    api.get("/v1/findings"),
    api.get("/v1/incidents"),
  ]);
  state.zones = zones;
  for (const m of inbox) upsertMessage(state.inbox, m);
  for (const m of sent) upsertMessage(state.sent, m);
  for (const f of findings) state.findings.set(f.id, f);
  state.incidents = incidents;
  for (const m of [...inbox, ...sent]) for (const e of m.escalations ?? []) addEscalation({ ...e, message_id: m.id });
  await Promise.all([loadNotices(), loadAreas()]);
  renderAll();
}

async function loadNotices() {
  state.notices = await state.api.get("/v1/notices?live=true");
}

async function loadAreas() {
  state.areas = await state.api.get("/v1/protected-areas");
}

async function loadIncidents() {
  state.incidents = await state.api.get("/v1/incidents");
}

function upsertMessage(box, m) {
  const old = box.get(m.id);
  box.set(m.id, { ...m, acks: old?.acks ?? m.acks ?? [], escalations: old?.escalations ?? m.escalations ?? [] });
}

function addEscalation(e) {
  state.escalations.set(`${e.message_id}|${e.party}|${e.level}`, e);
  for (const box of [state.inbox, state.sent]) {
    const m = box.get(e.message_id);
    if (m && !m.escalations.some((x) => x.party === e.party && x.level === e.level)) m.escalations.push(e);
  }
}

// ------------------------------------------------------------------ stream

async function onEvent(ev) {
  const d = ev.data;
  switch (ev.type) {
    case "message":
      upsertMessage(d.from === state.party ? state.sent : state.inbox, d);
      renderMessages();
      renderAlerts();
      break;
    case "ack":
      for (const box of [state.inbox, state.sent]) {
        const m = box.get(d.message_id);
        if (m && !m.acks.some((a) => a.party === d.party)) m.acks.push(d);
      }
      if (d.kind === "alert" && d.about) {
        const acks = state.alertAcks.get(d.about) ?? [];
        if (!acks.some((a) => a.party === d.party)) acks.push({ party: d.party, at: d.at });
        state.alertAcks.set(d.about, acks);
      }
      renderMessages();
      renderAlerts();
      break;
    case "escalation":
      addEscalation(d);
      renderMessages();
      break;
    case "finding":
      state.findings.set(d.id, d);
      renderFindings();
      break;
    case "finding_cleared":
      for (const id of d.findings) state.findings.delete(id);
      renderFindings();
      break;
    case "notice":
      await loadNotices();
      renderNotices();
      break;
    case "protected_area":
      await loadAreas();
      renderNotices();
      break;
    case "alert":
      // an upgrade is a new message to acknowledge: an ack of the level before does not
      // stand for it (a downgrade sends none: the ack of the higher level still stands)
      if (d.kind === "raised" || d.kind === "upgraded") state.alertAcks.delete(d.alert_id);
      if (d.kind === "resolved") state.alerts.delete(d.alert_id);
      else state.alerts.set(d.alert_id, { ...(state.alerts.get(d.alert_id) ?? {}), ...d });
      renderAlerts();
      break;
    case "incident":
    case "intrusion":
      await loadIncidents();
      renderIncidents();
      break;
    default:
      break;
  }
}

// ------------------------------------------------------------------ polling

async function poll() {
  clearTimeout(state.pollTimer);
  try {
    const [pic, alerts] = await Promise.all([state.api.get("/v1/picture"), state.api.get("/v1/alerts")]);
    state.offsetMs = Date.parse(pic.time) - Date.now();
    state.aircraft = pic.aircraft;
    const seen = new Set();
    for (const ac of pic.aircraft) {
      seen.add(ac.id);
      const trail = state.trails.get(ac.id) ?? [];
      const last = trail[trail.length - 1];
      if (!last || last[0] !== ac.lat_deg || last[1] !== ac.lon_deg) trail.push([ac.lat_deg, ac.lon_deg]);
      state.trails.set(ac.id, trail.slice(-TRAIL_POINTS));
    }
    for (const id of [...state.trails.keys()]) if (!seen.has(id)) state.trails.delete(id);
    const next = new Map();
    for (const a of alerts) next.set(a.alert_id, { ...(state.alerts.get(a.alert_id) ?? {}), ...a });
    state.alerts = next;
    renderAircraft();
    renderAlerts();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return logout("revoked");
  }
  tickClock();
  state.pollTimer = setTimeout(poll, POLL_MS);
}

// ------------------------------------------------------------------ rendering

function renderAll() {
  renderParty();
  state.view.setZones(state.zones);
  fill(
    $("zones"),
    state.zones.map((z) =>
      h("li", { class: "zone-item", dataset: { zone: z.id } }, h("b", {}, z.name), " · ",
        z.rules.notice_hours ? t("zone.notice", { hours: z.rules.notice_hours }) : t(`zone.${z.kind}`)),
    ),
  );
  renderNotices();
  renderFindings();
  renderMessages();
  renderIncidents();
  renderAircraft();
  renderAlerts();
}

function renderAircraft() {
  state.view.setAircraft(state.aircraft, state.trails, aircraftLabel);
  fill(
    $("aircraft"),
    state.aircraft.map((ac) =>
      h("li", { class: `ac-item ${ac.own ? "own" : "other"}`, dataset: { aircraft: ac.id } },
        h("b", {}, ac.id), " ", partyLabel(ac.party), " · ", fmtAlt(ac.alt_ft), " · ",
        t("speed", { kt: Math.round(ac.gs_kt) }), " · ", t("track", { deg: Math.round(ac.trk_deg) })),
    ),
  );
}

function stateOf(alert, id) {
  return state.aircraft.find((a) => a.id === id) ?? alert.states?.[id] ?? null;
}

function alertMessage(alertId) {
  return [...state.inbox.values()].filter((m) => m.about === alertId).sort((a, b) => b.ledger_index - a.ledger_index)[0];
}

function renderAlerts() {
  const alerts = [...state.alerts.values()].sort((a, b) => (a.time_to_los_s ?? 0) - (b.time_to_los_s ?? 0));
  state.view.setAlerts(alerts, stateOf, alertLabel);
  fill(
    $("alerts"),
    alerts.map((a) => {
      const msg = alertMessage(a.alert_id);
      const ttl = a.time_to_los_s > 0
        ? [t("alert.ttl"), " ", h("b", { class: "ttl" }, fmtDuration(a.time_to_los_s))]
        : [h("b", { class: "ttl" }, t("alert.inLos"))];
      return h("li", { class: `alert level-${a.level}`, dataset: { alert: a.alert_id, level: a.level } },
        h("div", { class: "row" },
          h("span", { class: "badge", style: `background:${levelColour(a.level)}` }, t(`level.${a.level}`)),
          h("b", { dir: "ltr" }, a.pair.join(" ↔ "))),
        h("div", {}, ...ttl, " · ",
          t("alert.dcpa", { nm: fmtNum(a.dcpa_nm ?? 0, 1) }), " · ",
          t("alert.now", { nm: fmtNum(a.hdist_nm ?? 0, 1), ft: Math.round(a.vdist_ft ?? 0) })),
        msg ? ackControls(msg) : null,
        ...(state.alertAcks.get(a.alert_id) ?? [])
          .filter((x) => x.party !== state.party)
          .map((x) => h("div", { class: "acked", "data-testid": "alert-acked-by" }, "✓ ",
            t("msg.ackedBy", { party: partyLabel(x.party), at: fmtTime(x.at) }))));
    }),
  );
}

function ackedByMe(m) {
  return m.acks.some((a) => a.party === state.party);
}

function ackControls(m) {
  if (!m.requires_ack || !m.to.includes(state.party)) return null;
  if (!state.canAct && !ackedByMe(m)) {
    return h("div", { class: "acked", "data-testid": "ack-waiting" }, t("msg.viewerNoAck"));
  }
  if (ackedByMe(m)) {
    const a = m.acks.find((x) => x.party === state.party);
    return h("div", { class: "acked", "data-testid": "acked" }, "✓ ", t("msg.acked", { at: fmtTime(a.at) }));
  }
  return h("div", { class: "row" },
    h("span", { class: "countdown", dataset: { deadline: m.deadline ?? "" } }),
    h("button", { type: "button", class: "ack", dataset: { message: m.id }, onclick: () => acknowledge(m) }, t("msg.ack")));
}

async function acknowledge(m) {
  try {
    const r = await state.api.post(`/v1/messages/${encodeURIComponent(m.id)}/ack`, {});
    if (!m.acks.some((a) => a.party === r.party)) m.acks.push(r);
  } catch (err) {
    // in the page, not a dialog that would hold the page's live updates
    const why = err instanceof ApiError ? [err.field, err.reason].filter(Boolean).join(": ") : String(err);
    $("action-error").textContent = why;
    setTimeout(() => { if ($("action-error").textContent === why) $("action-error").textContent = ""; }, 15000);
    return;
  }
  $("action-error").textContent = "";
  renderMessages();
  renderAlerts();
}

function messageText(m) {
  const r = m.rendered ?? { text: JSON.stringify(m.content), lang: null };
  const free = m.kind === "text" || m.kind === "request" || m.kind === "reply";
  const srcLang = r.source_lang ?? m.content?.lang ?? r.lang;
  const text = h("p", { class: "text", lang: (r.translated ? r.lang : srcLang) ?? undefined, dir: "auto" }, r.text);
  if (free && !r.translated) {
    return [h("span", { class: "lang-mark", "data-testid": "lang-mark" }, t("msg.original", { lang: langName(srcLang) })), text];
  }
  return [text];
}

function messageItem(m, sent) {
  const to = m.to.map(partyLabel).join(", ");
  const head = sent ? t("msg.to", { to }) : t("msg.from", { from: m.from in partyMap() ? partyLabel(m.from) : t("service") });
  const items = [
    h("div", { class: "row meta" },
      h("span", { class: "kind" }, t(`kind.${m.kind}`)), h("span", {}, head), h("span", { class: "time" }, fmtTime(m.sent))),
    ...messageText(m),
  ];
  if (sent) {
    for (const p of m.to) {
      const a = m.acks.find((x) => x.party === p);
      if (a) items.push(h("div", { class: "acked", "data-testid": "acked-by" }, "✓ ", t("msg.ackedBy", { party: partyLabel(p), at: fmtTime(a.at) })));
      else if (m.requires_ack) items.push(h("div", { class: "waiting" }, t("msg.waiting", { party: partyLabel(p) }), " ", h("span", { class: "countdown", dataset: { deadline: m.deadline ?? "" } })));
    }
  } else {
    items.push(ackControls(m));
  }
  for (const e of m.escalations ?? []) {
    items.push(h("div", { class: "escalated" }, "⚠ ", t("esc.line", { party: partyLabel(e.party), level: e.level, name: escName(e), at: fmtTime(e.at) })));
  }
  return h("li", { class: `msg kind-${m.kind}${m.acks.length ? " has-ack" : ""}`, dataset: { message: m.id } }, ...items);
}

function escName(e) {
  const key = `esc.level.${e.level}`;
  const text = t(key);
  return text === key ? (e.level_name ?? "") : text;
}

function partyMap() {
  return Object.fromEntries((state.protocol?.parties ?? []).map((p) => [p.id, p]));
}

function renderMessages() {
  const newest = (box) => [...box.values()].sort((a, b) => b.sent.localeCompare(a.sent) || (b.ledger_index ?? 0) - (a.ledger_index ?? 0));
  fill($("inbox"), newest(state.inbox).map((m) => messageItem(m, false)));
  fill($("sent"), newest(state.sent).map((m) => messageItem(m, true)));
  const escs = [...state.escalations.values()].sort((a, b) => b.at.localeCompare(a.at));
  fill($("escalations"), escs.map((e) =>
    h("li", { class: "esc", dataset: { message: e.message_id } },
      t("esc.line", { party: partyLabel(e.party), level: e.level, name: escName(e), at: fmtTime(e.at) }),
      h("div", { class: "small", dir: "ltr" }, e.message_id))));
  const open = [...state.inbox.values()].filter((m) => m.requires_ack && m.to.includes(state.party) && !ackedByMe(m)).length;
  const tab = document.querySelector('[data-tab="hotline"]');
  tab.dataset.count = open ? fmtNum(open) : "";
  tickClock();
}

function renderNotices() {
  state.view.setNotices(state.notices, describeVolume);
  state.view.setAreas(state.areas, describeArea);
  fill($("notices"), state.notices.map((n) =>
    h("li", { class: "notice-item", dataset: { notice: n.notice.id } },
      h("div", { class: "row" }, h("b", { dir: "ltr" }, `${n.notice.id} v${n.notice.version}`), h("span", { class: "badge state" }, t(`state.${n.notice.state}`))),
      ...n.notice.volumes.map((v, i) => h("div", { class: "small" }, t(`shape.${v.area.type.toLowerCase()}`), " · ", describeVolume(n.notice, v, i).split(" · ").slice(2).join(" · "))),
      h("div", { class: "small" }, t("notice.findings", { n: (n.findings ?? []).length })))));
  fill($("areas"), state.areas.map((a) =>
    h("li", { class: "area-item", dataset: { area: a.area.id } }, h("b", { dir: "ltr" }, a.area.id), " · ", t(`areakind.${a.area.kind}`), " · ",
      t(`disclosure.${a.area.disclosure ?? "on_conflict"}`))));
}

function renderFindings() {
  const list = [...state.findings.values()];
  state.view.setFindings(list, describeFinding);
  fill($("findings"), list.map((f) => findingItem(f)));
}

function findingItem(f) {
  return h("li", { class: `finding-item kind-${f.kind}`, dataset: { finding: f.id } },
    h("div", { class: "row" }, h("span", { class: "badge finding" }, t(`finding.${f.kind}`)), h("span", {}, t("finding.with", { other: otherLabel(f) }))),
    f.overlap
      ? h("div", { class: "small" }, band(f.overlap.lower, f.overlap.upper), " · ", window_(f.overlap.start, f.overlap.end), " · ",
        t("area.km2", { km2: Math.round(f.overlap.area_km2 ?? 0) }))
      : null,
    h("div", { class: "small detail", lang: "en", dir: "ltr" }, f.detail));
}

function renderIncidents() {
  fill($("incidents"), state.incidents.map((i) =>
    h("li", { class: "incident", dataset: { incident: i.incident_id } },
      h("div", { class: "row" }, h("span", { class: "badge" }, t(`incident.${i.kind}`)), h("b", { dir: "ltr" }, (i.pair ?? []).join(" ↔ "))),
      h("div", { class: "small" }, window_(i.start, i.end)),
      i.min_hdist_nm !== undefined
        ? h("div", { class: "small" }, t("incident.min", { nm: fmtNum(i.min_hdist_nm, 1), ft: Math.round(i.min_vdist_ft) }))
        : null,
      h("a", { href: "#", class: "report", onclick: (e) => { e.preventDefault(); openReport(i.incident_id); } }, t("incident.report")))));
}

async function openReport(id) {
  const html = await state.api.get(`/v1/incidents/${encodeURIComponent(id)}/report`);
  const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
  window.open(url, "_blank");
}

function tickClock() {
  const now = serverNow();
  $("clock").textContent = fmtTime(now);
  for (const el of document.querySelectorAll(".countdown")) {
    const due = Date.parse(el.dataset.deadline);
    if (Number.isNaN(due)) {
      el.textContent = "";
      continue;
    }
    const left = (due - now) / 1000;
    el.classList.toggle("overdue", left < 0);
    el.textContent = left >= 0 ? t("msg.due", { left: fmtDuration(left) }) : t("msg.overdue", { late: fmtDuration(-left) });
  }
}

// ------------------------------------------------------------------ filing

function setupFiling() {
  const drawer = new Drawer(state.view, { onChange: onDrawChange });
  state.drawer = drawer;
  state.view.check = L.layerGroup().addTo(state.view.map);
  const form = $("file-form");
  for (const r of form.querySelectorAll('input[name="shape"]')) {
    r.addEventListener("change", () => {
      drawer.setShape(r.value);
      form.dataset.shape = r.value;
      $("draw-help").dataset.i18n = `draw.help.${r.value}`;
      $("draw-help").textContent = t(`draw.help.${r.value}`);
    });
  }
  form.dataset.shape = "polygon";
  $("draw-start").addEventListener("click", () => drawer.start());
  $("draw-finish").addEventListener("click", () => drawer.finish());
  $("draw-clear").addEventListener("click", () => drawer.clear());
  $("radius").addEventListener("input", () => drawer.setRadius(Number($("radius").value) || 0));
  $("width").addEventListener("input", () => drawer.setWidth(Number($("width").value) || 0));
  form.addEventListener("input", invalidateCheck);
  $("check").addEventListener("click", () => checkDraft());
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    fileDraft();
  });
  const start = new Date(Math.ceil(serverNow() / 3600000) * 3600000 + 3600000);
  $("start").value = start.toISOString().slice(0, 16);
  $("end").value = new Date(start.getTime() + 3 * 3600000).toISOString().slice(0, 16);
}

function onDrawChange(drawer) {
  $("draw-finish").disabled = !drawer.canFinish();
  if (drawer.shape === "circle" && drawer.done) $("radius").value = String(drawer.radiusNm);
  const area = drawer.area();
  const status = $("draw-status");
  if (area) status.textContent = t("draw.ready", { n: drawer.points.length });
  else if (drawer.drawing) status.textContent = t("draw.points", { n: drawer.points.length });
  else status.textContent = "";
  invalidateCheck();
}

function invalidateCheck() {
  state.checked = null;
  state.draftVersion += 1; // a check already on its way answers for the draft before
  $("submit").disabled = true;
  state.view?.check?.clearLayers(); // its overlaps and findings were the draft before's
  const box = $("check-result");
  if (box && !box.dataset.filed) box.replaceChildren();
}

function altValue(v) {
  return $("alt-unit").value === "fl" ? `FL${String(Math.round(v)).padStart(3, "0")}` : Number(v);
}

function draftNotice() {
  const area = state.drawer.area();
  if (!area) throw new Error(t("file.needArea"));
  const lower = Number($("lower").value);
  const upper = Number($("upper").value);
  if (!(upper > lower)) throw new Error(t("file.needBand"));
  if (!$("start").value || !$("end").value) throw new Error(t("file.needWindow"));
  const notice = {
    type: "operation_notice",
    party: state.party,
    id: `${state.party}-console-${serverNow().toString(36)}`,
    version: 1,
    state: "planned",
    volumes: [{ area, lower: altValue(lower), upper: altValue(upper), start: `${$("start").value}:00Z`, end: `${$("end").value}:00Z` }],
  };
  const remark = $("remark").value.trim();
  if (remark) notice.remark = remark;
  return notice;
}

function showFindings(findings, title, draw = true) {
  const box = $("check-result");
  delete box.dataset.filed;
  state.view.check.clearLayers();
  for (const f of draw ? findings : []) {
    if (!f.overlap) continue;
    L.geoJSON(f.overlap.area, { style: { color: "#c0392b", weight: 2, fillOpacity: 0.35, className: "check-overlap" } }).addTo(state.view.check);
  }
  box.replaceChildren(
    h("h3", {}, title),
    findings.length
      ? h("ul", { class: "list", "data-testid": "check-findings" }, ...findings.map(findingItem))
      : h("p", { class: "clear", "data-testid": "check-clear" }, t("file.clear")),
  );
}

async function checkDraft() {
  $("file-error").textContent = "";
  try {
    const notice = draftNotice();
    const version = state.draftVersion;
    const r = await state.api.post("/v1/notices/check", { notice });
    if (version !== state.draftVersion) return; // edited meanwhile: check again
    state.checked = notice;
    showFindings(r.findings, t("file.checked", { n: r.findings.length }));
    $("submit").disabled = false;
  } catch (err) {
    showError(err);
  }
}

async function fileDraft() {
  if (!state.checked) return;
  $("file-error").textContent = "";
  try {
    const r = await state.api.post("/v1/notices", { notice: state.checked });
    state.drawer.clear(); // the draft is filed: its check goes, the result is shown
    invalidateCheck();
    // the filed notice's overlaps are on the map as findings: not again in red
    showFindings(r.findings, t("file.filed", { id: r.notice.id, index: r.ledger_index }), false);
    $("check-result").dataset.filed = r.notice.id;
    await loadNotices();
    renderNotices();
  } catch (err) {
    showError(err);
  }
}

function showError(err) {
  const text = err instanceof ApiError ? `${err.field ?? ""}: ${err.reason}` : err.message;
  $("file-error").textContent = text;
}

// ------------------------------------------------------------------ setup

function setupMap() {
  state.view = new MapView($("map"));
  state.view.loadBasemap();
  setupFiling();
}

function setupTabs() {
  for (const b of document.querySelectorAll(".tabs button")) {
    b.addEventListener("click", () => {
      for (const x of document.querySelectorAll(".tabs button")) x.classList.toggle("active", x === b);
      for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== `tab-${b.dataset.tab}`;
    });
  }
}

async function changeLang(code) {
  const lang = await setLang(code);
  sessionStorage.setItem(LANG_KEY, lang);
  $("lang").value = lang;
  if (state.view) renderAll();
  return lang;
}

async function main() {
  setupTabs();
  const stored = sessionStorage.getItem(LANG_KEY);
  await changeLang(stored ?? "en");
  if (!stored) sessionStorage.removeItem(LANG_KEY);
  $("lang").addEventListener("change", () => changeLang($("lang").value));
  $("logout").addEventListener("click", () => logout());
  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    try {
      await login($("token").value.trim());
    } catch (err) {
      $("login-error").textContent = err instanceof ApiError && err.status === 401 ? t("login.bad") : String(err.message ?? err);
    }
  });
  setInterval(tickClock, 1000);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    try {
      await login(token);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        $("login-error").textContent = t("login.bad");
      } else {
        $("login-error").textContent = String(err.message ?? err); // the service is away?
      }
    }
  }
  if (sessionStorage.getItem(LOGGED_OUT_KEY)) {
    sessionStorage.removeItem(LOGGED_OUT_KEY);
    $("login-error").textContent = t("login.bad");
  }
  document.body.dataset.ready = "1";
  applyI18n(document);
}

main();
