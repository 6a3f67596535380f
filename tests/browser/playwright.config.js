// Playwright with Debian's Chromium (no browser download: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
// run.sh starts the servers and sets the STAMPCARD_* variables the tests read (see lib.js).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './specs',
  outputDir: './test-output/results',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: Number(process.env.STAMPCARD_BROWSER_WORKERS ?? 2),
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.STAMPCARD_URL,
    browserName: 'chromium',
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    locale: 'en-GB',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.STAMPCARD_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
