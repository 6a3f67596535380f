// Korean and English. The texts live in messages.js, one table per language with the same keys;
// the app's own words come from here, the server's (problem details) come in the language of the
// same stampcard_prefs cookie.
import { messages } from './messages.js';

let lang = 'en';

export function setLanguage(language) {
  lang = messages[language] ? language : 'en';
}

export function language() {
  return lang;
}

/** t('card.progress', {balance: 3, total: 10}): `{name}` placeholders are filled in. */
export function t(key, vars = {}) {
  const text = messages[lang][key] ?? messages.en[key];
  if (text === undefined) {
    console.warn(`missing text: ${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Whether there is a text for `key` (the app's words for a server code may be missing). */
export function has(key) {
  return key in messages[lang] || key in messages.en;
}

/** By count: `key.one` for exactly 1, `key.other` otherwise (Korean writes both, as it reads best). */
export function tn(key, count, vars = {}) {
  const form = count === 1 ? 'one' : 'other';
  return t(`${key}.${form}`, { count, ...vars });
}

/**
 * tn() for a text with an element in it, where each language puts it elsewhere ("3 stamps on
 * the card", "카드에 스탬프 3개"): `nodes` fill placeholders with elements; the rest as tn().
 * Gives a list of strings and elements for h().
 */
export function tnParts(key, count, nodes) {
  const names = Object.keys(nodes).map((name) => `{${name}}`);
  const text = tn(key, count, Object.fromEntries(Object.keys(nodes).map((name) => [name, `{${name}}`])));
  return text.split(/(\{\w+\})/).filter(Boolean).map((part) => (names.includes(part) ? nodes[part.slice(1, -1)] : part));
}

const locales = { en: 'en-GB', ko: 'ko-KR' };

export function formatDateTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(locales[lang], { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(iso),
  );
}

export function formatTime(iso) {
  return new Intl.DateTimeFormat(locales[lang], { timeStyle: 'short' }).format(new Date(iso));
}

export function formatNumber(value) {
  return new Intl.NumberFormat(locales[lang]).format(value);
}

/** +821012345678 -> 010-1234-5678 (Korean numbers as people write them); others unchanged. */
export function formatPhone(e164) {
  if (!e164) return '';
  const mobile = /^\+82(1\d)(\d{3,4})(\d{4})$/.exec(e164);
  if (mobile) return `0${mobile[1]}-${mobile[2]}-${mobile[3]}`;
  const seoul = /^\+822(\d{3,4})(\d{4})$/.exec(e164);
  if (seoul) return `02-${seoul[1]}-${seoul[2]}`;
  const other = /^\+82(\d{2})(\d{3,4})(\d{4})$/.exec(e164);
  if (other) return `0${other[1]}-${other[2]}-${other[3]}`;
  return e164;
}
