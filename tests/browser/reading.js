// Reading a screen the way a person reads it (specs/every-screen.spec.js): in the light and the
// dark theme, at 320 and 390 px, what is wrong with it:
//   - `null`, `undefined`, `NaN`, `[object Object]`, a `{placeholder}` or a message key;
//   - API words (`Retry-After`, `errors`, `JSON`, a snake_case code such as `too_short`);
//   - English on a Korean screen, beyond the brand and what the test typed (usernames, emails);
//   - the same sentence twice in one form or dialog;
//   - anything sticking out of the viewport sideways, or out of its dialog; the answer the
//     screen just gave, or the message of the field it focused, hidden under the header or the
//     bottom navigation.
// A theme is CSS only and a width only layout, so the screen is read four ways in place.
//
// STAMPCARD_EVERY_SCREEN_SHOTS=1 also photographs every reading, into
// test-output/screenshots/every-screen/ (for looking at them; docs/screenshots/ has a few).
import { mkdir } from 'node:fs/promises';
import { expect, importWebModule } from './lib.js';

const { messages } = await importWebModule('messages.js');
const KEYS = Object.keys(messages.en);
const KEY_PREFIXES = [...new Set(KEYS.map((key) => key.split('.')[0]))];
// The state of a screen is made at the narrow size (where it is hardest), then read at both.
export const NARROW = { width: 320, height: 568 };
const WIDE = { width: 390, height: 844 };
// Each screen four ways, in an order that changes one thing at a time (a resize costs most).
const WAYS = [
  { theme: 'light', size: NARROW },
  { theme: 'dark', size: NARROW },
  { theme: 'dark', size: WIDE },
  { theme: 'light', size: WIDE },
];
const BRAND = 'stampcard';
const SHOTS = process.env.STAMPCARD_EVERY_SCREEN_SHOTS === '1' ? new URL('./test-output/screenshots/every-screen/', import.meta.url) : null;

/**
 * Runs in the page: what is wrong with the screen as it is now, as a list of sentences.
 * `allowed`: strings the test typed (usernames, emails) that may be anything; `inView`:
 * selectors of messages that must be visible (not under the navigation, not below the fold).
 */
function inspect({ keys, prefixes, allowed, brand, korean, inView }) {
  const problems = [];
  const seen = new Set();
  const report = (text) => {
    if (!seen.has(text)) problems.push(text);
    seen.add(text);
  };
  const shown = (el) => el.checkVisibility({ checkVisibilityCSS: true }) && !el.closest('.visually-hidden');
  const name = (el) => {
    let label = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') + [...el.classList].slice(0, 2).map((c) => `.${c}`).join('');
    const text = (el.innerText ?? el.textContent ?? '').trim().replace(/\s+/g, ' ');
    if (text) label += ` "${text.length > 70 ? `${text.slice(0, 70)}…` : text}"`;
    return label;
  };

  // --- words: everything shown, and what a screen reader says (labels, titles, the page title)
  const texts = [{ text: document.title, el: document.documentElement, where: 'the page title' }];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.data.trim() || !el || el.closest('script, style, noscript')) continue;
    if (!el.checkVisibility({ checkVisibilityCSS: true })) continue; // visually-hidden text is read aloud: kept
    texts.push({ text: node.data, el });
  }
  for (const el of document.body.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    if (!el.checkVisibility({ checkVisibilityCSS: true })) continue;
    for (const attr of ['aria-label', 'title', 'placeholder', 'alt']) {
      const value = el.getAttribute(attr);
      if (value?.trim()) texts.push({ text: value, el, where: `[${attr}] of ${name(el)}` });
    }
  }
  // Data, not the app's words: other people's names and addresses (the admin's list), device
  // names (products, or a raw User-Agent), and reasons people typed.
  const data = [
    ...[...document.querySelectorAll('[data-username]')].map((el) => el.dataset.username),
    ...[...document.querySelectorAll('.user-meta')].flatMap((el) => el.textContent.split(' · ')),
    ...[...document.querySelectorAll('.session-text strong')].map((el) => el.textContent),
    // What staff typed as the reason of a void (the audit log shows others' too).
    ...[...document.querySelectorAll('q.reason')].map((el) => el.textContent),
  ];
  const mayBeAnything = [brand, ...allowed, ...data].filter(Boolean).sort((a, b) => b.length - a.length);
  const keyLike = new RegExp(`\\b(?:${prefixes.join('|')})\\.[A-Za-z_]`);
  for (const { text, el, where } of texts) {
    let rest = text;
    for (const value of mayBeAnything) rest = rest.split(value).join(' ');
    const at = () => where ?? name(el);
    const junk = /\b(?:null|undefined|NaN)\b|\[object \w+\]/.exec(rest);
    if (junk) report(`shows "${junk[0]}": ${at()}`);
    const placeholder = /\{\w+\}/.exec(rest);
    if (placeholder) report(`shows the placeholder ${placeholder[0]}: ${at()}`);
    const key = keys.find((k) => rest.includes(k)) ?? keyLike.exec(rest)?.[0];
    if (key) report(`shows a message key (${key}): ${at()}`);
    const api = /\b(?:Retry-After|Idempotency-Key|errors|JSON|HTTP|POST|PATCH)\b|\b[a-z]+(?:_[a-z0-9]+)+\b/.exec(rest);
    if (api) report(`speaks API ("${api[0]}"): ${at()}`);
    if (korean && el.closest('[lang]')?.lang === 'ko') {
      // Names of formats that Korean writes in Latin letters too (QR 코드, CSV 파일, A4 용지).
      const english = rest.replace(/\b(?:QR|CSV|A4)\b/g, ' ').match(/[A-Za-z]+/g);
      if (english) report(`English on a Korean screen (${english.join(' ')}): ${at()}`);
    }
  }

  // --- the same sentence twice in one place (a form's alert and a field saying one thing)
  for (const place of document.querySelectorAll('form, dialog[open], .user, #result')) {
    const said = [...place.querySelectorAll('.form-alert p, .form-alert li, .field-error')]
      .filter(shown)
      .map((el) => el.textContent.trim())
      .filter(Boolean);
    const twice = said.find((text, i) => said.indexOf(text) !== i);
    if (twice) report(`says the same twice: "${twice}" in ${name(place)}`);
  }

  // --- layout: nothing wider than the viewport, nothing outside its dialog
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1) {
    report(`the page scrolls sideways (${document.documentElement.scrollWidth} px wide in ${width} px)`);
  }
  const out = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    if (!shown(el) || out.has(el.parentElement)) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    if (box.left < -1 || box.right > width + 1) {
      out.add(el);
      report(`sticks out of the ${width} px viewport (${Math.round(box.left)} to ${Math.round(box.right)} px): ${name(el)}`);
    }
  }
  for (const dialog of document.querySelectorAll('dialog[open]')) {
    const d = dialog.getBoundingClientRect();
    if (d.top < -1 || d.bottom > window.innerHeight + 1) report(`the dialog is taller than the screen: ${name(dialog)}`);
    for (const el of dialog.querySelectorAll('*')) {
      if (!shown(el) || out.has(el.parentElement)) continue;
      const box = el.getBoundingClientRect();
      if (!box.width || !box.height) continue;
      if (box.left < d.left - 1 || box.right > d.right + 1) {
        out.add(el);
        report(`sticks out of its dialog (${Math.round(box.left)} to ${Math.round(box.right)} px, the dialog ${Math.round(d.left)} to ${Math.round(d.right)}): ${name(el)}`);
      }
    }
  }

  // --- the answer the screen just gave is where the eye is, not under the navigation
  const header = document.getElementById('app-header').getBoundingClientRect();
  const nav = document.getElementById('app-nav').getBoundingClientRect();
  const bottom = nav.top > window.innerHeight / 2 ? nav.top : window.innerHeight;
  for (const selector of inView) {
    const el = document.querySelector(selector);
    if (!el || !shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.top < header.bottom - 1 || box.bottom > bottom + 1) {
      report(`is not in view (${Math.round(box.top)} to ${Math.round(box.bottom)} px; visible ${Math.round(header.bottom)} to ${Math.round(bottom)}): ${name(el)}`);
    }
  }
  return problems;
}

/**
 * A reader for one person's page in one language: read(name) checks the screen in both themes
 * and both widths and remembers what is wrong; says() checks one text the issue named.
 */
export function readerFor(page, lang) {
  const failures = [];
  const typed = [];
  return {
    failures,
    /** Strings the test typed or made up (they may be in any language). */
    typed(...values) {
      typed.push(...values.filter(Boolean));
    },
    async read(screen, { inView = [] } = {}) {
      await page.locator('.skeleton').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {});
      const found = new Map(); // problem -> the ways (theme, width) it showed
      let now = { theme: 'light', size: NARROW };
      for (const [i, way] of WAYS.entries()) {
        // A theme is CSS only; set as the toggle does (the header is inert behind a dialog).
        if (way.theme !== now.theme) await page.evaluate((t) => { document.documentElement.dataset.theme = t; }, way.theme);
        if (way.size !== now.size) await page.setViewportSize(way.size);
        now = way;
        const problems = await page.evaluate(inspect, {
          keys: KEYS,
          prefixes: KEY_PREFIXES,
          allowed: typed,
          brand: BRAND,
          korean: lang === 'ko',
          // Where the screen was when it gave the answer: that answer, and the message of the
          // field it put the focus in.
          inView: i === 0 ? [...inView, '.field:focus-within > .field-error:not(:empty)'] : [],
        });
        if (SHOTS) {
          await mkdir(SHOTS, { recursive: true });
          const file = `${screen.replace(/[^a-z0-9]+/gi, '-')}-${lang}-${way.theme}-${way.size.width}.png`;
          await page.screenshot({ path: new URL(file, SHOTS).pathname, animations: 'disabled' });
        }
        for (const p of problems) found.set(p, [...(found.get(p) ?? []), `${way.theme} ${way.size.width} px`]);
      }
      for (const [p, ways] of found) {
        failures.push(`${screen} [${lang}${ways.length === WAYS.length ? '' : `, ${ways.join(', ')}`}]: ${p}`);
      }
      await page.evaluate(() => { document.documentElement.dataset.theme = 'light'; });
      await page.setViewportSize(NARROW);
    },
    /** A text the issue named must say this (a regular expression per language). */
    async says(screen, locator, wanted) {
      const text = (await locator.innerText({ timeout: 5000 }).catch(() => '(not there)')).trim();
      if (!wanted[lang].test(text)) failures.push(`${screen} [${lang}]: says "${text}", which should match ${wanted[lang]}`);
    },
    /** In a `finally`: what was found is reported also when a step could not be reached. */
    done() {
      expect.soft(failures, 'what the screens show').toEqual([]);
    },
  };
}
