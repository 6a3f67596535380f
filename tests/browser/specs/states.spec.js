// Loading, offline and layout stability: screens keep their shape while data arrives (the
// layout-shift score of the page stays near zero), the app says when it is offline and recovers.
import { ADMIN, apiAs, expect, h1, logIn, newCustomer, signUpByApi, stampByApi, STAFF, test } from '../lib.js';

// Layout shifts not caused by input, as the browser measures them (Cumulative Layout Shift).
const RECORD_SHIFTS = () => {
  window.__shift = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
  }).observe({ type: 'layout-shift', buffered: true });
};

async function shiftOf(page, path, ready) {
  await page.goto(path);
  await ready();
  await page.waitForTimeout(300);
  return page.evaluate(() => window.__shift);
}

test('screens do not jump while their data loads, even on a slow connection', async ({ person }) => {
  const customer = newCustomer('steady');
  const api = await signUpByApi(customer);
  const staff = await apiAs(STAFF());
  await stampByApi(staff, customer.phone, 4);
  await staff.dispose();
  const { page, context } = await person();
  await context.addInitScript(RECORD_SHIFTS);
  await logIn(page, customer);
  // Every API answer 400 ms late: the skeletons are on screen for a while.
  await page.route('**/api/v1/**', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    await route.continue();
  });
  const screens = [
    ['/card', () => expect(page.locator('#card-status')).toHaveText(/^4 of/)],
    ['/history', () => expect(page.locator('.events > li')).toHaveCount(1)],
    ['/sessions', () => expect(page.locator('.session')).toHaveCount(2)],
    ['/profile', () => expect(page.getByLabel('Username')).toHaveValue(customer.username)],
  ];
  for (const [path, ready] of screens) {
    const shift = await shiftOf(page, path, ready);
    expect(shift, `layout shift on ${path}`).toBeLessThan(0.05);
  }
  await api.dispose();
});

test('the counter and the admin screen do not jump either', async ({ person }) => {
  const { page, context } = await person();
  await context.addInitScript(RECORD_SHIFTS);
  await logIn(page, ADMIN());
  await page.route('**/api/v1/**', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    await route.continue();
  });
  expect(await shiftOf(page, '/staff', () => expect(h1(page)).toHaveText('Counter'))).toBeLessThan(0.05);
  expect(await shiftOf(page, '/admin', () => expect(page.locator('.users > li').first()).toBeVisible())).toBeLessThan(0.05);
});

test('offline: the app says so, keeps the screen, and recovers', async ({ person }) => {
  const customer = newCustomer('offline');
  (await signUpByApi(customer)).dispose();
  const { page, context } = await person();
  await logIn(page, customer);
  await expect(page.locator('#card-status')).toHaveText(/^0 of/);

  await context.setOffline(true);
  await expect(page.getByRole('status').filter({ hasText: 'You are offline.' })).toBeVisible();
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.locator('.card-message')).toContainText('No answer from the server');
  await expect(page.locator('#card-status')).toHaveText(/^0 of/); // the last known card stays
  await page.getByRole('link', { name: 'History' }).click();
  await expect(page.getByRole('alert')).toContainText('No answer from the server');

  await context.setOffline(false);
  await page.getByRole('button', { name: 'Try again' }).first().click();
  await expect(page.getByText('Nothing yet: your stamps will show up here.')).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'You are offline.' })).toHaveCount(0);
});

test('a server in trouble (503 with Retry-After) is explained in the app\'s words, with when to retry', async ({ person }) => {
  const customer = newCustomer('busy');
  (await signUpByApi(customer)).dispose();
  const { page } = await person();
  await page.goto('/login');
  // The server's detail is for developers (it names the header): the app says it its own way.
  const detail = 'The service is busy or its database is unavailable; retry after Retry-After seconds.';
  await page.route('**/api/v1/sessions', (route) =>
    route.fulfill({
      status: 503,
      headers: { 'Retry-After': '5' },
      contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'tag:stampcard,2026:problem:service_unavailable', title: 'Service unavailable', status: 503, detail, code: 'service_unavailable' }),
    }),
  );
  await page.getByLabel('Username').fill(customer.username);
  await page.getByLabel('Password', { exact: true }).fill(customer.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.locator('form .form-alert')).toHaveText('The service is busy right now. Try again in 5 seconds.');
  await expect(page.getByRole('button', { name: 'Log in' })).toBeEnabled();
});
