// How the app is served: the route list agrees with the app, every route answers the page
// with its security headers, assets are immutable, unknown paths are 404 (the app's own page
// for browsers, problem+json for everyone else), and the texts exist in both languages, for
// every code the API answers with too.
import { readdir, readFile } from 'node:fs/promises';
import { expect, h1, importWebModule, test } from '../lib.js';

const { ROUTE_PATHS } = await importWebModule('routes.js');
const { messages } = await importWebModule('messages.js');

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const routesJson = async () => JSON.parse(await readFile(new URL('../../../web/routes.json', import.meta.url), 'utf8'));

test('web/routes.json and the router list the same routes', async () => {
  const routes = await routesJson();
  expect(routes).toEqual([...ROUTE_PATHS]);
  for (const route of routes) {
    expect(route).toMatch(/^\/[a-z-]*$/);
    expect(route === '/' || !route.endsWith('/')).toBe(true);
    expect(route).not.toMatch(/^\/(api|assets|healthz|readyz|openapi\.yaml|metrics)(\/|$)/);
  }
});

test('English and Korean have the same texts', async () => {
  expect(Object.keys(messages.ko).sort()).toEqual(Object.keys(messages.en).sort());
  for (const [key, text] of Object.entries(messages.ko)) {
    const placeholders = (s) => (s.match(/\{\w+\}/g) ?? []).sort();
    expect(placeholders(text), key).toEqual(placeholders(messages.en[key]));
  }
});

test('every problem and field code of the API has the app\'s own words', async ({ request }) => {
  const spec = await (await request.get('/openapi.yaml')).text();
  const listed = (text) => [...text.matchAll(/`([a-z]+(?:_[a-z]+)*)`/g)].map((m) => m[1]);
  // The conventions list the problem codes ("`code` (`malformed_request`, ...)"); the FieldError
  // schema the field codes.
  const problems = listed(/`code` \(([^)]*)\)/.exec(spec)?.[1] ?? '');
  // (What a code's parenthesis says is about it: field names there are not codes.)
  const fields = listed((/FieldError:[^]*?code:[^]*?description: \|([^]*?)\n\s+message:/.exec(spec)?.[1] ?? '').replace(/\([^)]*\)/g, ''));
  expect(problems).toContain('too_many_attempts');
  expect(fields).toContain('too_short');
  // Answers to requests the app never makes this way: its general sentence is right for them.
  const general = ['method_not_allowed', 'unsupported_media_type'];
  for (const code of problems.filter((c) => !general.includes(c))) {
    expect(messages.en, `words for the problem code ${code}`).toHaveProperty([`problem.${code}`]);
  }
  for (const code of fields) expect(messages.en, `words for the field code ${code}`).toHaveProperty([`fieldError.${code}`]);
});

test('index.html refers to assets only under /assets/__ASSETS__/ and has no inline script or style', async () => {
  const html = await readFile(new URL('../../../web/index.html', import.meta.url), 'utf8');
  for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    if (url.startsWith('#') || url === '/') continue;
    expect(url).toMatch(/^\/assets\/__ASSETS__\//);
  }
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(html).not.toMatch(/\sstyle=|<style|\son[a-z]+=/i);
});

test('installable: a web app manifest with icons, and theme-color', async ({ request }) => {
  const html = await (await request.get('/')).text();
  expect(html).toMatch(/<meta name="theme-color" content="#[0-9a-f]{6}" media="\(prefers-color-scheme: light\)">/);
  expect(html).toMatch(/<meta name="theme-color" content="#[0-9a-f]{6}" media="\(prefers-color-scheme: dark\)">/);
  const href = /<link rel="manifest" href="([^"]+)">/.exec(html)[1];
  const res = await request.get(href);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toMatch(/^application\/manifest\+json/);
  const manifest = await res.json();
  expect(manifest).toMatchObject({ name: 'stampcard', start_url: '/', display: 'standalone' });
  const sizes = manifest.icons.map((icon) => icon.sizes);
  expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']));
  for (const icon of manifest.icons) {
    const file = await request.get(new URL(icon.src, new URL(href, 'http://x')).pathname);
    expect(file.status(), icon.src).toBe(200);
    expect(file.headers()['content-type']).toBe(icon.type);
  }
});

test('index.html preloads every module of the app (no import waterfall)', async () => {
  const html = await readFile(new URL('../../../web/index.html', import.meta.url), 'utf8');
  const preloaded = [...html.matchAll(/<link rel="modulepreload" href="\/assets\/__ASSETS__\/([^"]+)">/g)].map((m) => m[1]).sort();
  const assets = new URL('../../../web/assets/', import.meta.url);
  const modules = [];
  for (const dir of ['', 'screens/', 'vendor/qr/']) {
    for (const name of await readdir(new URL(dir, assets))) {
      if (name.endsWith('.js') && name !== 'app.js' && name !== 'early.js') modules.push(dir + name);
    }
  }
  // Imported only when needed (import()): the QR decoder, when the counter opens the camera.
  const lazy = ['vendor/qr/decode.js'];
  modules.splice(0, modules.length, ...modules.filter((m) => !lazy.includes(m)));
  expect(preloaded).toEqual(modules.sort());
});

test('every route answers the page with its headers, and survives a reload', async ({ request, person }) => {
  for (const route of await routesJson()) {
    const res = await request.get(route, { headers: { Accept: 'text/html' } });
    expect(res.status(), route).toBe(200);
    const headers = res.headers();
    expect(headers['content-type']).toMatch(/^text\/html/);
    expect(headers['content-security-policy']).toBe(CSP);
    expect(headers['referrer-policy']).toBe('same-origin');
    expect(headers['cache-control']).toBe('no-cache');
    expect(await res.text()).not.toContain('__ASSETS__');
    const head = await request.head(route);
    expect(head.status(), `HEAD ${route}`).toBe(200);
  }
  const { page } = await person();
  for (const route of await routesJson()) {
    const res = await page.goto(route);
    expect(res.status(), route).toBe(200);
    await expect(h1(page)).toBeVisible();
    const reloaded = await page.reload();
    expect(reloaded.status()).toBe(200);
    await expect(h1(page)).toBeVisible();
  }
});

test('assets are served under a content hash with an immutable cache', async ({ request }) => {
  const html = await (await request.get('/')).text();
  const urls = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  expect(urls.length).toBeGreaterThanOrEqual(3);
  for (const url of urls) {
    expect(url).toMatch(/^\/assets\/[A-Za-z0-9_-]{8,}\//);
    const res = await request.get(url);
    expect(res.status(), url).toBe(200);
    expect(res.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  }
  const app = urls.find((u) => u.endsWith('/app.js'));
  expect((await request.get(app)).headers()['content-type']).toMatch(/javascript/);
  // Another module, by the relative path app.js imports it with.
  expect((await request.get(app.replace('app.js', 'screens/card.js'))).status()).toBe(200);
  expect((await request.get(app.replace('app.js', 'no-such-file.js'))).status()).toBe(404);
});

test('an unknown path is 404: the app says "page not found", other clients get problem+json', async ({ request, person }) => {
  const json = await request.get('/no-such-page', { headers: { Accept: 'application/json' } });
  expect(json.status()).toBe(404);
  expect(json.headers()['content-type']).toMatch(/^application\/problem\+json/);
  expect((await json.json()).code).toBe('not_found');

  const { page } = await person();
  const res = await page.goto('/no-such-page');
  expect(res.status()).toBe(404);
  await expect(h1(page)).toHaveText('Page not found');
  await expect(page).toHaveTitle(/Page not found/);
  await page.getByRole('link', { name: 'Go to the start page' }).click();
  await expect(h1(page)).toHaveText('Every coffee counts');
  // A route with a trailing slash is not a route.
  expect((await page.goto('/card/')).status()).toBe(404);
  await expect(h1(page)).toHaveText('Page not found');
});
