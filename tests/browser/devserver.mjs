#!/usr/bin/env node
// Development server for the web app, until the stampcard binary serves web/ itself.
// Plain Node.js, no dependencies. It serves web/ exactly as the binary will:
//
//   GET|HEAD <a path of web/routes.json>  -> web/index.html, `__ASSETS__` replaced by the hash
//                                            of all assets; CSP, Referrer-Policy: same-origin,
//                                            Cache-Control: no-cache
//   GET|HEAD /assets/<hash>/<path>         -> web/assets/<path>, Cache-Control: public,
//                                            max-age=31536000, immutable (only the current hash)
//   anything else                           -> proxied to the API (STAMPCARD_API), every header and
//                                            cookie passed through (Host too, so the API's
//                                            same-origin check sees this origin); a 404 there for
//                                            a GET/HEAD whose Accept prefers text/html becomes
//                                            index.html with status 404 (the app's 404 screen)
//
// Usage: STAMPCARD_API=http://127.0.0.1:8080 DEVSERVER_ADDR=127.0.0.1:3000 node devserver.mjs
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const ASSETS = path.join(WEB, 'assets');
const API = new URL(process.env.STAMPCARD_API ?? 'http://127.0.0.1:8080');
const [HOST, PORT] = (process.env.DEVSERVER_ADDR ?? '127.0.0.1:3000').split(':');

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
};

async function listFiles(dir, prefix = '') {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(path.join(dir, entry.name), rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/** A content hash of every asset (path and bytes), recomputed per request: edits show at once. */
async function assetsHash() {
  const hash = createHash('sha256');
  for (const rel of await listFiles(ASSETS)) {
    hash.update(rel).update('\0').update(await readFile(path.join(ASSETS, rel))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

async function routes() {
  return JSON.parse(await readFile(path.join(WEB, 'routes.json'), 'utf8'));
}

/** The q of `type` under an Accept header: that of its most specific matching range. */
function quality(accept, type) {
  const major = type.split('/')[0];
  let best = { specificity: 0, q: 0 };
  for (const part of accept.split(',')) {
    const [rangeText, ...params] = part.split(';');
    const range = rangeText.trim().toLowerCase();
    const specificity = range === type ? 3 : range === `${major}/*` ? 2 : range === '*/*' ? 1 : 0;
    if (specificity > best.specificity) {
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const q = qParam ? Number.parseFloat(qParam.slice(2)) : 1;
      best = { specificity, q: Number.isFinite(q) ? q : 0 };
    }
  }
  return best.q;
}

/** Whether an Accept header prefers text/html to JSON (a browser navigation does). */
function prefersHtml(accept = '') {
  const html = quality(accept, 'text/html');
  return html > 0 && html > Math.max(quality(accept, 'application/json'), quality(accept, 'application/problem+json'));
}

async function sendPage(req, res, status) {
  const hash = await assetsHash();
  const html = (await readFile(path.join(WEB, 'index.html'), 'utf8')).replaceAll('__ASSETS__', hash);
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Content-Security-Policy': CSP,
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : html);
}

function sendProblem(req, res, status, code, detail, extra = {}) {
  const body = JSON.stringify({
    type: `tag:stampcard,2026:problem:${code}`,
    title: http.STATUS_CODES[status],
    status,
    detail,
    code,
  });
  res.writeHead(status, {
    'Content-Type': 'application/problem+json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function notFound(req, res) {
  if ((req.method === 'GET' || req.method === 'HEAD') && prefersHtml(req.headers.accept)) {
    return sendPage(req, res, 404);
  }
  return sendProblem(req, res, 404, 'not_found', 'There is nothing at this address.');
}

async function sendAsset(req, res, pathname) {
  const match = /^\/assets\/([^/]+)\/(.+)$/.exec(pathname);
  if (!match || match[1] !== (await assetsHash())) return notFound(req, res);
  let rel;
  try {
    rel = decodeURIComponent(match[2]);
  } catch {
    return notFound(req, res);
  }
  const file = path.resolve(ASSETS, rel);
  if (!file.startsWith(ASSETS + path.sep) || rel.split('/').some((p) => p.startsWith('.'))) {
    return notFound(req, res);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendProblem(req, res, 405, 'method_not_allowed', 'Only GET and HEAD.', { Allow: 'GET, HEAD' });
  }
  let body;
  try {
    body = await readFile(file);
  } catch {
    return notFound(req, res);
  }
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': body.length,
    'Cache-Control': 'public, max-age=31536000, immutable',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);
// A new connection to the API per request: a kept-alive one that the API closes as idle just as
// the next request goes out is an ECONNRESET, which became a 502 in a test now and then
// (localhost connections cost next to nothing).
const agent = new http.Agent({ keepAlive: false });

function proxy(req, res) {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const upstream = http.request(
    { protocol: API.protocol, hostname: API.hostname, port: API.port, method: req.method, path: req.url, headers, agent },
    (answer) => {
      if (answer.statusCode === 404 && (req.method === 'GET' || req.method === 'HEAD') && prefersHtml(req.headers.accept) && !req.url.startsWith('/api/')) {
        answer.resume();
        return sendPage(req, res, 404);
      }
      const raw = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(answer.rawHeaders[i].toLowerCase())) raw.push(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
      }
      res.writeHead(answer.statusCode, answer.statusMessage, raw);
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (res.headersSent) return res.destroy(error);
    sendProblem(req, res, 502, 'bad_gateway', `devserver: the API at ${API.origin} did not answer (${error.code ?? error.message}).`);
  });
  req.pipe(upstream);
}

const server = http.createServer(async (req, res) => {
  try {
    const { pathname } = new URL(req.url, 'http://devserver');
    if ((await routes()).includes(pathname)) {
      if (req.method === 'GET' || req.method === 'HEAD') return await sendPage(req, res, 200);
      return sendProblem(req, res, 405, 'method_not_allowed', 'Only GET and HEAD.', { Allow: 'GET, HEAD' });
    }
    if (pathname.startsWith('/assets/')) return await sendAsset(req, res, pathname);
    return proxy(req, res);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) sendProblem(req, res, 500, 'internal_error', 'devserver error');
    else res.destroy();
  }
});

// The same race on the tests' side: Playwright's request contexts reuse a connection for a
// while, and one closed by Node's default 5 s keep-alive timeout as a request went out was an
// ECONNRESET. Idle connections stay open longer than any pause in a test.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;

server.listen(Number(PORT), HOST, () => {
  const { port } = server.address();
  console.log(`devserver: http://${HOST}:${port}/ serves ${WEB}, proxies the rest to ${API.origin}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
