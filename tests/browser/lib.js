// Shared helpers and fixtures of the browser tests.
//
// Environment (run.sh sets all of it):
//   STAMPCARD_URL            the app (binary, or devserver in front of it)
//   STAMPCARD_CORS_URL       a second instance whose STAMPCARD_ALLOWED_ORIGINS lists the foreign origin
//   STAMPCARD_REAUTH_URL     the app in front of a third instance, whose password proofs last only
//   STAMPCARD_REAUTH_WINDOW  this many seconds (STAMPCARD_REAUTH_WINDOW; the product's default: 600)
//   STAMPCARD_FOREIGN_PORT   the port of that foreign origin (tests serve a page there themselves)
//   STAMPCARD_STAFF_USERNAME / _PASSWORD, STAMPCARD_ADMIN_USERNAME / _PASSWORD   made with the CLI
//   STAMPCARD_BIN, DATABASE_URL   the binary and its database, for the CLI (repairs only)
//   STAMPCARD_MAILDIR        the Maildir the SMTP server (aiosmtpd) delivers the server's mail into
//   STAMPCARD_SMS_FILE       the SMS gateway's record: one JSON line {"to", "text", "at"} per SMS
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test as base, expect, request as playwrightRequest } from '@playwright/test';

export { expect };

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run the tests through tests/browser/run.sh)`);
  return value;
}

export const APP = () => env('STAMPCARD_URL');
export const CORS_URL = () => env('STAMPCARD_CORS_URL');
export const REAUTH_URL = () => env('STAMPCARD_REAUTH_URL');
export const REAUTH_WINDOW = () => Number(env('STAMPCARD_REAUTH_WINDOW'));
export const FOREIGN_PORT = () => Number(env('STAMPCARD_FOREIGN_PORT'));
export const STAFF = () => ({ username: env('STAMPCARD_STAFF_USERNAME'), password: env('STAMPCARD_STAFF_PASSWORD') });
export const ADMIN = () => ({ username: env('STAMPCARD_ADMIN_USERNAME'), password: env('STAMPCARD_ADMIN_PASSWORD') });

/** Runs the stampcard CLI against the tests' database (`optional`: a failure is ignored). */
export function cli(args, { optional = false } = {}) {
  try {
    return execFileSync(env('STAMPCARD_BIN'), args, { env: process.env, stdio: 'pipe' }).toString();
  } catch (error) {
    if (!optional) throw error;
    return null;
  }
}

/**
 * One of the app's own ES modules (one without imports: routes.js, messages.js). web/ has no
 * package.json, so Node would take a .js file there for CommonJS; a data: URL is a module.
 */
export async function importWebModule(name) {
  const source = await readFile(new URL(`../../web/assets/${name}`, import.meta.url), 'utf8');
  return import(`data:text/javascript;charset=utf-8,${encodeURIComponent(source)}`);
}

/** A fresh customer identity (not yet signed up): unique name, phone, a strong password. */
export function newCustomer(prefix = 'guest') {
  const tag = randomBytes(4).toString('hex');
  // The middle block's first digit avoids 0, 1 and 5, whose ranges are partly unassigned
  // (010-597x is not a valid number), as examples/curl/lib.sh and the Postman collection do.
  const phone = `010-${'2346789'[randomInt(7)]}${randomInt(1000).toString().padStart(3, '0')}-${randomInt(1000, 9999)}`;
  return {
    username: `${prefix}_${tag}`,
    password: `oat flat white ${randomBytes(4).toString('hex')}`,
    phone,
    e164: `+8210${phone.slice(4, 8)}${phone.slice(9)}`,
  };
}

/** An API client with its own cookie jar (one person, outside the browser). */
export async function apiAs(person) {
  const api = await playwrightRequest.newContext({ baseURL: APP() });
  if (person) {
    const res = await api.post('/api/v1/sessions', { data: { username: person.username, password: person.password } });
    expect(res.status(), `login of ${person.username}`).toBe(201);
  }
  return api;
}

/** Signs a customer up through the API (fast set-up for tests about something else). */
export async function signUpByApi(person) {
  const api = await apiAs(null);
  const data = { username: person.username, password: person.password, phone: person.phone };
  if (person.email) data.email = person.email;
  const res = await api.post('/api/v1/users', { data });
  expect(res.status(), await res.text()).toBe(201);
  return api;
}

export async function cardOf(api) {
  const res = await api.get('/api/v1/stamps');
  expect(res.status()).toBe(200);
  return res.json();
}

/** Staff stamps a phone through the API. */
export async function stampByApi(staffApi, phone, count) {
  const res = await staffApi.post('/api/v1/stamps', { data: { phone, count } });
  expect(res.status(), await res.text()).toBe(201);
  return res.json();
}

// Records what must never happen on the app's own pages: CSP violations and script errors.
const WATCH = () => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push({
      directive: event.violatedDirective,
      blocked: event.blockedURI,
      sample: event.sample,
      source: event.sourceFile,
    });
  });
};

/**
 * Fixtures:
 *   person(): a new browser context and page (one per person), watched for CSP violations,
 *             uncaught errors and console errors (other than the browser's own "Failed to load
 *             resource" lines for API answers such as 401/404 or a connection a test drops); each is
 *             checked at the end of the test unless the test calls `person.expectViolations()`.
 */
export const test = base.extend({
  person: async ({ browser }, use) => {
    const people = [];
    const make = async (options = {}) => {
      const context = await browser.newContext({ baseURL: APP(), ...options });
      await context.addInitScript(WATCH);
      const page = await context.newPage();
      const problems = [];
      page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        const text = message.text();
        // The browser's own line for every API answer >= 400 and every dropped connection.
        if (/^Failed to load resource: /.test(text)) return;
        problems.push(`console: ${text}`);
      });
      const who = { context, page, problems, allowViolations: false };
      people.push(who);
      return who;
    };
    await use(make);
    for (const who of people) {
      if (!who.allowViolations) {
        const ours = [APP(), process.env.STAMPCARD_REAUTH_URL].filter(Boolean);
        for (const p of who.context.pages()) {
          if (p.isClosed() || !ours.some((origin) => p.url().startsWith(origin))) continue;
          const violations = await p.evaluate(() => window.__cspViolations ?? []).catch(() => []);
          expect(violations, `CSP violations on ${p.url()}`).toEqual([]);
        }
        expect(who.problems, 'errors on the page').toEqual([]);
      }
      await who.context.close();
    }
  },
});

/** Logs in through the login screen (the page must be on it). */
export async function logInOnScreen(page, { username, password }) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Goes to /login and logs in. */
export async function logIn(page, who) {
  await page.goto('/login');
  await logInOnScreen(page, who);
  await expect(page).not.toHaveURL(/\/login/);
}

/** Signs up through the sign-up screen. */
export async function signUpOnScreen(page, person) {
  await page.goto('/signup');
  await page.getByLabel('Username').fill(person.username);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await page.getByLabel('Phone number (optional)').fill(person.phone);
  await page.getByRole('button', { name: 'Create my card' }).click();
  await expect(page).toHaveURL(/\/card$/);
}

/** The main heading of the current screen. */
export function h1(page) {
  return page.getByRole('heading', { level: 1 });
}

// --- the mail and the SMS the server sent (through the transports run.sh starts) -------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until it gives something truthy, or fails after `within` ms saying `what`. */
async function poll(read, what, within = 15_000) {
  const deadline = Date.now() + within;
  for (;;) {
    const found = await read();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`${what} did not arrive within ${within} ms`);
    await sleep(100);
  }
}

/**
 * A mail as aiosmtpd stored it, parsed: its headers (lower-case names, folded lines joined) and
 * its text, decoded from quoted-printable when it is that (lettre chooses it for our mails: soft
 * line breaks `=\n`, `=3D` for `=`, the Korean half as `=XX` UTF-8 bytes).
 */
export function parseMail(raw) {
  const mail = raw.replace(/\r\n/g, '\n');
  const split = mail.indexOf('\n\n');
  const head = split < 0 ? mail : mail.slice(0, split);
  const body = split < 0 ? '' : mail.slice(split + 2);
  const headers = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let text = body;
  if (/quoted-printable/i.test(headers['content-transfer-encoding'] ?? '')) {
    const bytes = [];
    const joined = body.replace(/=\n/g, '');
    for (let i = 0; i < joined.length; i += 1) {
      const hex = joined[i] === '=' ? joined.slice(i + 1, i + 3) : '';
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(joined[i], 'utf8'));
      }
    }
    text = Buffer.from(bytes).toString('utf8');
  }
  return { headers, text };
}

/** Every mail delivered so far to `address` (the To header), oldest first. */
export async function mailsTo(address) {
  const maildir = env('STAMPCARD_MAILDIR');
  const found = [];
  for (const dir of ['new', 'cur']) {
    let names = [];
    try {
      names = await readdir(join(maildir, dir));
    } catch {
      continue; // no mail yet: aiosmtpd makes the Maildir on the first one
    }
    for (const name of names) {
      const mail = parseMail(await readFile(join(maildir, dir, name), 'utf8'));
      if ((mail.headers.to ?? '').toLowerCase().includes(address.toLowerCase())) found.push({ name, mail });
    }
  }
  // Python's mailbox names a message <seconds>.M<microseconds>P<pid>Q<counter>.<host>: in the
  // order of delivery by the seconds, then the counter.
  const order = (name) => {
    const [, seconds = '0', counter = '0'] = /^(\d+)\..*?Q(\d+)/.exec(name) ?? [];
    return [Number(seconds), Number(counter)];
  };
  found.sort((a, b) => {
    const [sa, ca] = order(a.name);
    const [sb, cb] = order(b.name);
    return sa - sb || ca - cb;
  });
  return found.map((f) => f.mail);
}

/** Waits for the `count`-th mail to `address` and returns it. */
export async function waitForMail(address, { count = 1, within } = {}) {
  const mails = await poll(async () => {
    const all = await mailsTo(address);
    return all.length >= count ? all : null;
  }, `mail #${count} to ${address}`, within);
  return mails[count - 1];
}

/** The reset link in a mail (`<STAMPCARD_PUBLIC_URL>/reset-password#token=<64 hex>`). */
export function resetLinkIn(mail) {
  const match = /(https?:\/\/\S+\/reset-password#token=[0-9a-f]{64})(?![0-9a-f])/.exec(mail.text);
  if (!match) throw new Error(`no reset link in the mail:\n${mail.text}`);
  return match[1];
}

/** The link of a mail that proves an address (`<STAMPCARD_PUBLIC_URL>/verify-email#token=<64 hex>`). */
export function verifyLinkIn(mail) {
  const match = /(https?:\/\/\S+\/verify-email#token=[0-9a-f]{64})(?![0-9a-f])/.exec(mail.text);
  if (!match) throw new Error(`no email verification link in the mail:\n${mail.text}`);
  return match[1];
}

/**
 * Proves `address` through the API with the link of its `count`-th mail (the one signing up or
 * setting the address sent): password reset mails go only to proven addresses.
 */
export async function verifyEmailByApi(address, { count = 1 } = {}) {
  const link = verifyLinkIn(await waitForMail(address, { count }));
  const token = new URL(link).hash.replace(/^#token=/, '');
  const api = await apiAs(null);
  const res = await api.post('/api/v1/email-verifications/confirm', { data: { token } });
  expect(res.status(), await res.text()).toBe(204);
  await api.dispose();
}

/** Every SMS sent so far to `e164`, oldest first: {to, text, at}. */
export async function smsTo(e164) {
  let text = '';
  try {
    text = await readFile(env('STAMPCARD_SMS_FILE'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((sms) => sms.to === e164);
}

/** Waits for the `count`-th SMS to `e164` and returns the 6-digit code in it. */
export async function waitForCode(e164, { count = 1, within } = {}) {
  const all = await poll(async () => {
    const sent = await smsTo(e164);
    return sent.length >= count ? sent : null;
  }, `SMS #${count} to ${e164}`, within);
  const match = /\b(\d{6})\b/.exec(all[count - 1].text);
  if (!match) throw new Error(`no code in the SMS: ${all[count - 1].text}`);
  return match[1];
}

// --- QR codes (the card code on the customer's screen, the poster) ----------------------------

/**
 * What the QR code that `locator` shows says, read from the pixels the browser drew (a
 * screenshot of it, decoded by `qr`'s decoder: the same library the app vendors, from npm).
 */
export async function readQr(locator) {
  const { decodeQR } = await import('qr/decode.js');
  const png = await locator.screenshot();
  const { width, height, data } = await pixelsOf(locator.page().context(), png);
  return decodeQR({ width, height, data: Uint8ClampedArray.from(data) });
}

/** A PNG's RGBA pixels, decoded by Chromium on a blank page of `context`. */
export async function pixelsOf(context, png) {
  const scratch = await context.newPage();
  try {
    return await scratch.evaluate(async (b64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${b64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(image, 0, 0);
      const data = ctx.getImageData(0, 0, image.width, image.height);
      return { width: data.width, height: data.height, data: Array.from(data.data) };
    }, png.toString('base64'));
  } finally {
    await scratch.close();
  }
}
