#!/usr/bin/env node
// A stand-in SMS gateway for the browser tests. Plain Node.js, no dependencies.
//
//   POST /sms  {"to": "+821012345678", "text": "..."}  -> 200 {"status": "accepted"}; the message
//                                                        is appended to SMS_FILE as one JSON line
//                                                        {"to", "text", "at"}
//   GET  /healthz                                      -> 200 (run.sh waits for it)
//   anything else                                      -> 404; a body that is not such JSON -> 400
//
// Usage: SMS_ADDR=127.0.0.1:3001 SMS_FILE=/tmp/sms.jsonl node sms-gateway.mjs
import { appendFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';

const [HOST, PORT] = (process.env.SMS_ADDR ?? '127.0.0.1:3001').split(':');
const FILE = process.env.SMS_FILE;
if (!FILE) {
  console.error('SMS_FILE is not set');
  process.exit(2);
}
writeFileSync(FILE, '', { flag: 'a' });

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://gateway');
  if (req.method === 'GET' && pathname === '/healthz') return answer(res, 200, { status: 'ok' });
  if (req.method !== 'POST' || pathname !== '/sms') return answer(res, 404, { error: 'not found' });
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let message;
    try {
      message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answer(res, 400, { error: 'not JSON' });
    }
    if (typeof message?.to !== 'string' || typeof message?.text !== 'string') {
      return answer(res, 400, { error: 'expected {"to", "text"}' });
    }
    // One write per line, so a reader never sees half a message.
    appendFileSync(FILE, `${JSON.stringify({ to: message.to, text: message.text, at: new Date().toISOString() })}\n`);
    console.log(`sms to ${message.to}`);
    return answer(res, 200, { status: 'accepted' });
  });
});

server.listen(Number(PORT), HOST, () => console.log(`sms gateway on http://${HOST}:${PORT}/sms, writing ${FILE}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
