// The owner's view (issue 22): today's figures and the last 30 days as a chart (one bar per
// day), the staff table, the CSV download (the password asked for in place when the proof is
// old), the audit list with its filters and paging, and the poster: one A4 page whose QR code
// says the signup link.
import { readFile } from 'node:fs/promises';
import { ADMIN, APP, apiAs, expect, h1, logIn, newCustomer, readQr, REAUTH_URL, REAUTH_WINDOW, signUpByApi, STAFF, stampByApi, test } from '../lib.js';

const WIDE = { viewport: { width: 1280, height: 800 } };

test('today, the chart of 30 days and the staff table show what the server counted', async ({ person }) => {
  const customer = newCustomer('figures');
  const customerApi = await signUpByApi(customer);
  const staff = await apiAs(STAFF());
  await stampByApi(staff, customer.phone, 3);
  await stampByApi(staff, customer.phone, 4);
  const { page } = await person(WIDE);
  await logIn(page, ADMIN());
  const daily = page.waitForResponse((r) => r.url().includes('/api/v1/reports/daily'));
  const byStaff = page.waitForResponse((r) => r.url().includes('/api/v1/reports/staff'));
  await page.goto('/admin?view=overview');
  await expect(h1(page)).toHaveText('Today and the last 30 days');
  const days = (await (await daily).json()).items;
  expect(days).toHaveLength(30);
  const today = days[days.length - 1];
  // At least what this test made (other tests stamp at the same time).
  expect(today.stamps).toBeGreaterThanOrEqual(7);
  expect(today.new_customers).toBeGreaterThanOrEqual(1);
  expect(today.active_customers).toBeGreaterThanOrEqual(1);
  for (const [name, value] of Object.entries({ stamps: today.stamps, redemptions: today.redemptions, voids: today.voids, new_customers: today.new_customers, active_customers: today.active_customers })) {
    await expect(page.locator(`.figures-list [data-figure="${name}"] dd`)).toHaveText(String(value));
  }
  // One bar per day, the last one today's.
  const bars = page.locator('svg.chart rect.bar');
  await expect(bars).toHaveCount(30);
  await expect(bars.last()).toHaveAttribute('data-date', today.date);
  await expect(bars.last()).toHaveAttribute('data-stamps', String(today.stamps));
  // The CSV's range is the report's: the cafe's days (STAMPCARD_TIMEZONE), not this device's.
  await expect(page.getByLabel('To', { exact: true })).toHaveValue(today.date);
  await expect(page.getByLabel('From', { exact: true })).toHaveValue(days[0].date);
  // The staff table: the barista's row as the server counted it.
  const rows = (await (await byStaff).json()).items;
  const barista = rows.find((row) => row.user.username === STAFF().username);
  expect(barista.stamps).toBeGreaterThanOrEqual(7);
  const row = page.locator(`.staff-table tr[data-username="${STAFF().username}"]`);
  await expect(row.locator('td').first()).toHaveText(String(barista.stamps));
  await staff.dispose();
  await customerApi.dispose();
});

test('the CSV download holds the events of the range', async ({ person }) => {
  const customer = newCustomer('csv');
  const customerApi = await signUpByApi(customer);
  const staff = await apiAs(STAFF());
  const { event } = await stampByApi(staff, customer.phone, 2);
  const { page } = await person({ ...WIDE, acceptDownloads: true });
  await logIn(page, ADMIN());
  await page.goto('/admin?view=overview');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^stamp-events-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = await readFile(await file.path(), 'utf8');
  const [header, ...lines] = csv.trim().split(/\r?\n/);
  for (const column of ['id', 'created_at', 'kind', 'count', 'balance_after', 'phone', 'by', 'voids', 'reason']) {
    expect(header.split(',')).toContain(column);
  }
  const mine = lines.find((line) => line.startsWith(event.id));
  expect(mine).toBeTruthy();
  expect(mine).toContain(customer.e164);
  expect(mine).toContain(STAFF().username);
  await expect(page.locator('.export-form .form-alert')).toContainText('Downloaded');
  await staff.dispose();
  await customerApi.dispose();
});

test('the CSV with an old password proof: asked in place, then downloaded', async ({ person }) => {
  const { page } = await person({ ...WIDE, baseURL: REAUTH_URL(), acceptDownloads: true });
  await logIn(page, ADMIN());
  await page.goto('/admin?view=overview');
  await page.waitForTimeout((REAUTH_WINDOW() + 0.5) * 1000);
  const answers = [];
  page.on('response', (r) => r.url().includes('/reports/events.csv') && answers.push(r.status()));
  await page.getByRole('button', { name: 'Download CSV' }).click();
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await expect(dialog.getByLabel('Your password')).toBeFocused();
  const download = page.waitForEvent('download');
  await dialog.getByLabel('Your password').fill(ADMIN().password);
  await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
  expect((await download).suggestedFilename()).toMatch(/\.csv$/);
  expect(answers).toEqual([403, 200]);
});

test('the audit log: filtered by what and by whom, a page at a time', async ({ person }) => {
  const customer = newCustomer('audited');
  const customerApi = await signUpByApi(customer);
  const me = await (await customerApi.get('/api/v1/users/me')).json();
  const admin = await apiAs(ADMIN());
  const adminId = (await (await admin.get('/api/v1/users/me')).json()).id;
  // 22 role changes: more than one page of 20.
  for (let i = 0; i < 22; i += 1) {
    const res = await admin.patch(`/api/v1/users/${me.id}`, { data: { role: i % 2 === 0 ? 'staff' : 'customer' } });
    expect(res.status()).toBe(200);
  }
  const { page } = await person(WIDE);
  await logIn(page, ADMIN());
  await page.goto('/admin?view=audit');
  await expect(h1(page)).toHaveText('Who did what');
  await page.getByLabel('What was done').selectOption('user.role_changed');
  await expect(page.locator('.audit-entry')).toHaveCount(20);
  const first = page.locator('.audit-entry').first();
  await expect(first).toContainText('Role changed');
  await expect(first).toContainText(`By ${ADMIN().username}, for ${customer.username}`);
  await expect(first).toContainText('Staff → Customer');
  await expect(page.locator('.audit-entry:not([data-action="user.role_changed"])')).toHaveCount(0);
  await page.getByLabel('Who did it').selectOption(adminId);
  await expect(page.locator('.audit-entry')).toHaveCount(20);
  await page.getByRole('button', { name: 'Show more' }).click();
  await expect.poll(() => page.locator('.audit-entry').count()).toBeGreaterThanOrEqual(22);
  await admin.dispose();
  await customerApi.dispose();
});

test('the poster prints on one A4 page, and its QR code is the signup link', async ({ person }) => {
  const { page } = await person(WIDE);
  await logIn(page, ADMIN());
  await page.goto('/admin?view=poster');
  await expect(page.locator('.poster')).toBeVisible();
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('.app-header')).toBeHidden();
  expect(await readQr(page.locator('.poster-qr'))).toBe(`${APP()}/signup`);
  const pdf = (await page.pdf({ preferCSSPageSize: true, printBackground: true })).toString('latin1');
  const pages = pdf.match(/\/Type\s*\/Page(?![a-z])/g) ?? [];
  expect(pages).toHaveLength(1);
  // A4: 595 x 842 points.
  const box = /\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(pdf);
  expect(Math.round(Number(box[1]))).toBe(595);
  expect(Math.round(Number(box[2]))).toBe(842);
  await page.emulateMedia({ media: 'screen' });
});
