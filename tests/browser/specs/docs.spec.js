// GET /docs: the API reference, rendered by the vendored Swagger UI. It lists every operation of
// openapi.yaml, loads nothing but this server's own files (no CDN, no other document, whatever
// the address says), causes no CSP violation (the fixture checks every page), and a logged-in
// browser sends requests from it with its session cookie, unsafe ones included.
import { APP, apiAs, expect, newCustomer, test } from '../lib.js';

/**
 * Every operation of the served openapi.yaml, as "METHOD /path", read from its text: the paths
 * are the two-space keys under `paths:`, their operations the four-space method keys.
 */
async function documentedOperations() {
  const api = await apiAs(null);
  const text = await (await api.get('/openapi.yaml')).text();
  await api.dispose();
  const lines = text.split('\n');
  const operations = [];
  let path = null;
  for (const line of lines.slice(lines.indexOf('paths:') + 1)) {
    if (/^\S/.test(line)) break; // the next top-level key
    const pathKey = /^ {2}(\/\S*):\s*$/.exec(line);
    if (pathKey) path = pathKey[1];
    const method = /^ {4}(get|put|post|delete|patch|options|head|trace):\s*$/.exec(line);
    if (method && path) operations.push(`${method[1].toUpperCase()} ${path}`);
  }
  // The reading is right: one operation per operationId.
  expect(operations.length).toBe(text.match(/^ {6}operationId: /gm).length);
  expect(operations.length).toBeGreaterThanOrEqual(20);
  return operations.sort();
}

/** Whether a URL is that of an API document (YAML or JSON). */
const isDocument = (url) => /\.(ya?ml|json)$/.test(new URL(url).pathname);

/** The operations the page lists, as "METHOD /path". */
async function listedOperations(page) {
  return page.locator('.opblock-summary').evaluateAll((summaries) =>
    summaries.map((s) => {
      const method = s.querySelector('.opblock-summary-method')?.textContent.trim();
      const path = s.querySelector('.opblock-summary-path')?.getAttribute('data-path');
      return `${method} ${path}`;
    }),
  );
}

test('the reference lists every operation of openapi.yaml, from this server only', async ({ person }) => {
  const documented = await documentedOperations();
  const { page } = await person();
  const requested = [];
  page.on('request', (request) => requested.push(request.url()));
  await page.goto('/docs');
  await expect(page.getByRole('heading', { name: /^stampcard/ })).toBeVisible();
  await expect(page.locator('.opblock')).toHaveCount(documented.length);
  expect((await listedOperations(page)).sort()).toEqual(documented);

  const origin = new URL(APP()).origin;
  const elsewhere = requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
  expect(elsewhere, 'requests that left the origin').toEqual([]);
  expect(requested.filter(isDocument)).toEqual([`${origin}/openapi.yaml`]);
});

test('the address cannot make it load another document', async ({ person }) => {
  const { page } = await person();
  const requested = [];
  page.on('request', (request) => requested.push(request.url()));
  const foreign = 'http://127.0.0.1:9/evil.yaml';
  await page.goto(`/docs?url=${encodeURIComponent(foreign)}&configUrl=${encodeURIComponent(foreign)}`);
  await expect(page.locator('.opblock').first()).toBeVisible();
  await expect(page.getByRole('heading', { name: /^stampcard/ })).toBeVisible();
  expect(requested.filter((url) => url.startsWith('http://127.0.0.1:9/'))).toEqual([]);
  const origin = new URL(APP()).origin;
  expect(requested.filter(isDocument)).toEqual([`${origin}/openapi.yaml`]);
});

test('a logged-in browser sends requests from the page with its session cookie', async ({ person }) => {
  const { context, page } = await person();
  const customer = newCustomer('reader');
  // Sign up in the browser's own cookie jar, as the app would.
  const signup = await context.request.post('/api/v1/users', {
    data: { username: customer.username, password: customer.password, phone: customer.phone },
  });
  expect(signup.status()).toBe(201);

  // Who am I? (deep link: the operation opens)
  await page.goto('/docs#/sessions/whoami');
  const whoami = page.locator('#operations-sessions-whoami');
  await whoami.getByRole('button', { name: 'Try it out' }).click();
  const [answer] = await Promise.all([
    page.waitForResponse((res) => res.url() === `${new URL(APP()).origin}/api/v1/sessions/current`),
    whoami.getByRole('button', { name: 'Execute' }).click(),
  ]);
  expect(answer.status()).toBe(200);
  expect((await answer.request().allHeaders()).cookie ?? '').toMatch(/(^|; )(__Host-)?stampcard_session=/);
  await expect(whoami.locator('.live-responses-table tbody .response-col_status').first()).toHaveText('200');
  await expect(whoami.locator('.live-responses-table tbody .response-col_description').first()).toContainText(customer.username);
  await expect(whoami.locator('.request-url')).toContainText(`${new URL(APP()).origin}/api/v1/sessions/current`);

  // An unsafe request passes the cross-origin guard: it is same-origin.
  const prefs = page.locator('#operations-preferences-putPreferences');
  await prefs.locator('.opblock-summary').click();
  await prefs.getByRole('button', { name: 'Try it out' }).click();
  await prefs.locator('textarea.body-param__text').fill('{"language": "ko", "theme": "dark"}');
  await prefs.getByRole('button', { name: 'Execute' }).click();
  await expect(prefs.locator('.live-responses-table tbody .response-col_status').first()).toHaveText('200');
  const cookies = await context.cookies();
  expect(decodeURIComponent(cookies.find((c) => c.name === 'stampcard_prefs')?.value ?? '')).toContain('ko');
});
