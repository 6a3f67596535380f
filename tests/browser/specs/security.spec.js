// The browser's side of the API's security promises: the CSP blocks injected inline script and
// style (while the app's own pages cause no violation: every test checks that), and a page from
// another origin can neither make an unsafe credentialed request nor read an answer, until that
// origin is listed in STAMPCARD_ALLOWED_ORIGINS.
import http from 'node:http';
import { apiAs, APP, CORS_URL, expect, FOREIGN_PORT, h1, newCustomer, signUpOnScreen, stampByApi, STAFF, test } from '../lib.js';

test('the CSP blocks an injected inline script and inline style', async ({ person }) => {
  const who = await person();
  who.allowViolations = true; // this test causes them on purpose
  const { page } = who;
  await page.goto('/');
  await expect(h1(page)).toHaveText('Every coffee counts');
  const ownViolations = await page.evaluate(() => window.__cspViolations.length);
  expect(ownViolations).toBe(0);

  const outcome = await page.evaluate(async () => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true;';
    document.body.append(script);
    const div = document.createElement('div');
    div.innerHTML = '<img src="x" onerror="window.__handler = true"><p style="color: red">x</p>';
    document.body.append(div);
    await new Promise((resolve) => setTimeout(resolve, 300));
    return {
      injected: window.__injected === true,
      handler: window.__handler === true,
      color: getComputedStyle(div.querySelector('p')).color,
      violations: window.__cspViolations.map((v) => v.directive),
    };
  });
  expect(outcome.injected).toBe(false);
  expect(outcome.handler).toBe(false);
  expect(outcome.color).not.toBe('rgb(255, 0, 0)');
  expect(outcome.violations).toEqual(expect.arrayContaining(['script-src-elem', 'script-src-attr', 'style-src-attr']));
});

test('another page cannot frame the app (frame-ancestors)', async ({ person }) => {
  const who = await person();
  const foreign = await foreignOrigin(FOREIGN_PORT());
  try {
    const page = await who.context.newPage();
    await page.goto(`${foreign.url}frame?src=${encodeURIComponent(`${new URL('/login', APP())}`)}`);
    await page.waitForTimeout(500);
    const child = page.frames().find((f) => f !== page.mainFrame());
    expect(child).toBeTruthy();
    // Chromium shows its own error page in place of the app.
    expect(child.url()).toMatch(/^chrome-error:/);
    await expect(child.getByRole('heading', { name: 'Log in' })).toHaveCount(0);
    await page.close();
  } finally {
    await foreign.close();
  }
});

/** A page on another origin (another local port), served by the test itself. */
async function foreignOrigin(port) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const frame = url.pathname === '/frame' ? `<iframe title="framed" src="${url.searchParams.get('src')}"></iframe>` : '';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>elsewhere</title><h1>A page on another origin</h1>${frame}`);
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

test('another origin cannot use the session, until it is an allowed origin', async ({ person }) => {
  // The unsafe request: a new card code (POST, no body needed), which ends the card's previous
  // code. Whether a request went through shows in whether the code made before still works.
  const customer = newCustomer('victim');
  const who = await person();
  await signUpOnScreen(who.page, customer);
  await who.page.goto('/profile'); // the card screen makes codes of its own
  const staff = await apiAs(STAFF());
  const customerApi = who.context.request; // the same cookie jar as the customer's browser
  await stampByApi(staff, customer.phone, 3);
  const codeNow = async () => (await (await customerApi.post('/api/v1/stamps/card-code')).json()).code;
  const works = async (code) => (await staff.get(`/api/v1/stamps?card_code=${code}`)).status() === 200;
  const before = await codeNow();
  expect(await works(before)).toBe(true);

  const foreign = await foreignOrigin(FOREIGN_PORT());
  try {
    const page = await who.context.newPage();
    await page.goto(foreign.url);
    const app = new URL(who.page.url()).origin;

    // An unsafe request that needs no preflight (no-cors POST, the session cookie goes along):
    // the API refuses it with 403 cross_origin_request, and the page sees only an opaque answer.
    const refused = page.waitForResponse((r) => r.url() === `${app}/api/v1/stamps/card-code`);
    const opaque = await page.evaluate(async (url) => {
      const res = await fetch(url, { method: 'POST', credentials: 'include', mode: 'no-cors' });
      return { type: res.type, status: res.status };
    }, `${app}/api/v1/stamps/card-code`);
    expect(opaque).toEqual({ type: 'opaque', status: 0 });
    const answer = await refused;
    expect(answer.status()).toBe(403);
    expect(await works(before)).toBe(true); // no new code was made
    // The page cannot read that answer; outside the browser, the same request with the
    // browser's Origin and Sec-Fetch-Site (and the session cookie) shows what it was.
    const replayed = await customerApi.post('/api/v1/stamps/card-code', {
      headers: { Origin: new URL(foreign.url).origin, 'Sec-Fetch-Site': 'same-site' },
    });
    expect(replayed.status()).toBe(403);
    expect((await replayed.json()).code).toBe('cross_origin_request');

    // Reading: a credentialed GET and a JSON POST (which needs a preflight) both fail in the page.
    const reads = await page.evaluate(async (base) => {
      const attempt = async (init, path) => {
        try {
          const res = await fetch(base + path, { credentials: 'include', ...init });
          return `read ${res.status}`;
        } catch (error) {
          return error.name;
        }
      };
      return [
        await attempt({}, '/api/v1/stamps'),
        await attempt({}, '/api/v1/sessions/current'),
        await attempt({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }, '/api/v1/stamps/card-code'),
      ];
    }, app);
    expect(reads).toEqual(['TypeError', 'TypeError', 'TypeError']);
    expect(await works(before)).toBe(true);

    // The instance that lists this origin in STAMPCARD_ALLOWED_ORIGINS (same database, same key):
    // the page reads the card with the session, and makes a code (preflight, JSON).
    const allowed = await page.evaluate(async (base) => {
      const card = await fetch(`${base}/api/v1/stamps`, { credentials: 'include' });
      const made = await fetch(`${base}/api/v1/stamps/card-code`, {
        method: 'POST',
        credentials: 'include',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      return { card: card.status, balance: (await card.json()).balance, made: made.status, code: (await made.json()).code };
    }, CORS_URL());
    expect(allowed).toMatchObject({ card: 200, balance: 3, made: 201 });
    expect(await works(before)).toBe(false); // the new code ended it
    expect(await works(allowed.code)).toBe(true);
    // The very request refused above (no-cors, no preflight) carries the session cookie: the
    // allowed instance accepts it. So the 403 was the origin check, not a missing session.
    await page.evaluate(async (url) => {
      await fetch(url, { method: 'POST', credentials: 'include', mode: 'no-cors' });
    }, `${CORS_URL()}/api/v1/stamps/card-code`);
    await expect.poll(() => works(allowed.code)).toBe(false);
    await page.close();
  } finally {
    await foreign.close();
    await staff.dispose();
  }
});

