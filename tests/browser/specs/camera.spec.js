// The counter reads the card code's QR code with the camera: Chromium's fake camera plays a
// video of the customer's QR code (made here from the code the server gave the customer), the
// counter's scanner (the vendored decoder: Chromium on Linux has no BarcodeDetector) reads it,
// and the customer gets the stamp.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { encodeQR } from 'qr';
import { APP, cardOf, expect, logInOnScreen, newCustomer, signUpByApi, STAFF, test } from '../lib.js';

const W = 640;
const H = 480;

/** A Y4M video (4:2:0, a few identical frames) of `text`'s QR code, black on white. */
function qrVideo(text) {
  const matrix = encodeQR(text, 'raw', { border: 4 });
  const scale = Math.floor(Math.min(W, H) * 0.8 / matrix.length);
  const left = Math.floor((W - matrix.length * scale) / 2);
  const top = Math.floor((H - matrix.length * scale) / 2);
  const luma = Buffer.alloc(W * H, 235);
  for (let y = 0; y < matrix.length * scale; y += 1) {
    for (let x = 0; x < matrix.length * scale; x += 1) {
      if (matrix[Math.floor(y / scale)][Math.floor(x / scale)]) luma[(top + y) * W + left + x] = 16;
    }
  }
  const chroma = Buffer.alloc((W / 2) * (H / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\n`), frame, frame, frame]);
}

test('the counter scans the QR code of a card with the camera and stamps it', async () => {
  const customer = newCustomer('camera');
  const customerApi = await signUpByApi(customer);
  const made = await customerApi.post('/api/v1/stamps/card-code');
  expect(made.status()).toBe(201);
  const { code } = await made.json();

  const dir = await mkdtemp(join(tmpdir(), 'stampcard-camera-'));
  const video = join(dir, 'qr.y4m');
  await writeFile(video, qrVideo(code));
  const browser = await chromium.launch({
    executablePath: process.env.STAMPCARD_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  try {
    const context = await browser.newContext({ baseURL: APP(), viewport: { width: 390, height: 844 } });
    await context.grantPermissions(['camera']);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto('/login');
    await logInOnScreen(page, STAFF());
    await expect(page).toHaveURL(/\/staff$/);
    const stamped = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/stamps'));
    await page.getByRole('button', { name: 'Scan with the camera' }).click();
    await expect(page.getByRole('dialog', { name: 'Scan the card code' })).toBeVisible();
    const answer = await stamped;
    expect(answer.status()).toBe(201);
    expect(JSON.parse(answer.request().postData())).toEqual({ card_code: code, count: 1 });
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await expect(page.locator('.result-what')).toHaveText('1 stamp added');
    expect((await cardOf(customerApi)).balance).toBe(1);
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
    await customerApi.dispose();
  }
});
