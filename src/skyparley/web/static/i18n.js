// Translations and locale formatting. Every UI string comes from i18n/<lang>.json; numbers
// and times are formatted with Intl for the chosen locale, always in UTC.

export const LANGS = ["ar", "en", "ru"];
const RTL = new Set(["ar"]);

let lang = "en";
let dict = {};

/** Load a language's strings and set lang/dir on <html>. */
export async function setLang(next) {
  const code = LANGS.includes(next) ? next : "en";
  const r = await fetch(`/static/console/i18n/${code}.json`);
  dict = await r.json();
  lang = code;
  document.documentElement.lang = code;
  document.documentElement.dir = RTL.has(code) ? "rtl" : "ltr";
  applyI18n(document);
  return code;
}

export function currentLang() {
  return lang;
}

/** The string for `key` with `{name}` placeholders filled in (numbers formatted). */
export function t(key, vars = {}) {
  const text = dict[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => {
    const v = vars[name];
    if (v === undefined || v === null) return "";
    return typeof v === "number" ? fmtNum(v) : String(v);
  });
}

/** Fill every [data-i18n] text and [data-i18n-placeholder] placeholder under `root`. */
export function applyI18n(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

export function fmtNum(x, digits = 0) {
  return new Intl.NumberFormat(lang, {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  }).format(x);
}

const timeOpts = {
  timeZone: "UTC",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
};

/** A time (RFC 3339 text or epoch ms) as the locale writes it, in UTC. */
export function fmtTime(value, { seconds = true } = {}) {
  if (value === null || value === undefined) return "";
  const d = typeof value === "number" ? new Date(value) : new Date(value);
  const opts = { ...timeOpts };
  if (!seconds) delete opts.second;
  return `${new Intl.DateTimeFormat(lang, opts).format(d)} ${t("utc")}`;
}

/** A count of seconds as m:ss (or h:mm:ss), signed, with the locale's digits. */
export function fmtDuration(s) {
  const neg = s < 0;
  let rest = Math.floor(Math.abs(s));
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const sec = rest - m * 60;
  const two = (n) =>
    new Intl.NumberFormat(lang, { minimumIntegerDigits: 2, useGrouping: false }).format(n);
  const one = (n) => new Intl.NumberFormat(lang, { useGrouping: false }).format(n);
  const body = h > 0 ? `${one(h)}:${two(m)}:${two(sec)}` : `${one(m)}:${two(sec)}`;
  return neg ? `-${body}` : body;
}

/** An altitude: a flight level from 10,000 ft (FL245), else feet with the unit (9,500 ft). */
export function fmtAlt(ft) {
  if (ft >= 10000 && ft % 100 === 0) {
    return t("alt.fl", { fl: new Intl.NumberFormat(lang, { useGrouping: false, minimumIntegerDigits: 3 }).format(ft / 100) });
  }
  return t("alt.ft", { ft: Math.round(ft) });
}
