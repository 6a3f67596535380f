// Every screen, at phone (390x844) and desktop (1280x800) size, in the light and the dark theme:
// a screenshot under test-output/screenshots/ (a few are copied to docs/screenshots/ by hand),
// and an axe-core scan with no serious or critical violation (phone size in both themes, desktop
// in the light one: contrast depends on the theme, the rest hardly on the width; each scan costs
// about a second).
import { mkdir } from 'node:fs/promises';
import AxeBuilder from '@axe-core/playwright';
import {
  ADMIN,
  apiAs,
  expect,
  h1,
  logIn,
  newCustomer,
  REAUTH_URL,
  REAUTH_WINDOW,
  resetLinkIn,
  signUpByApi,
  stampByApi,
  STAFF,
  test,
  verifyEmailByApi,
  verifyLinkIn,
  waitForCode,
  waitForMail,
} from '../lib.js';

test.describe.configure({ mode: 'parallel', timeout: 120_000 });

const SHOTS = new URL('../test-output/screenshots/', import.meta.url);
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } };

async function setTheme(page, theme) {
  const toggle = page.locator('#theme-toggle');
  if ((await page.locator('html').getAttribute('data-theme')) !== theme) {
    // Behind a modal dialog the header is inert: switch the theme the way the toggle does.
    if (await page.locator('dialog[open]').count()) {
      await page.evaluate((t) => { document.documentElement.dataset.theme = t; }, theme);
    } else {
      await toggle.click();
    }
  }
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

/** Scans and photographs the current screen in both themes and both sizes. */
async function everyWay(page, name) {
  await mkdir(SHOTS, { recursive: true });
  await page.locator('.skeleton').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {});
  await expect(page.locator('.skeleton')).toHaveCount(0);
  const failures = [];
  for (const theme of ['light', 'dark']) {
    await setTheme(page, theme);
    // Phone first: a screen scrolled by the app (the counter's answer) is photographed as seen.
    for (const [size, viewport] of Object.entries(SIZES)) {
      await page.setViewportSize(viewport);
      await page.mouse.move(0, 0);
      await page.evaluate(() => document.activeElement?.blur());
      await page.screenshot({ path: new URL(`${name}-${size}-${theme}.png`, SHOTS).pathname, animations: 'disabled' });
      if (size === 'desktop' && theme === 'dark') continue;
      const result = await new AxeBuilder({ page })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
        .analyze();
      for (const v of result.violations) {
        if (v.impact === 'serious' || v.impact === 'critical') {
          failures.push(`${theme}/${size} ${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        }
      }
    }
  }
  expect(failures, `accessibility of ${name}`).toEqual([]);
}

/** A customer with some history and two devices. */
async function customerWith(person, stamps, prefix = 'shot') {
  const customer = newCustomer(prefix);
  const api = await signUpByApi(customer);
  const staff = await apiAs(STAFF());
  for (const count of stamps) await stampByApi(staff, customer.phone, count);
  await staff.dispose();
  const { page } = await person();
  await logIn(page, customer);
  return { customer, api, page };
}

test('start, login, sign-up and not-found screens', async ({ person }) => {
  const { page } = await person();
  await page.goto('/');
  await expect(h1(page)).toHaveText('Every coffee counts');
  await everyWay(page, 'home');
  await page.goto('/login');
  await everyWay(page, 'login');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.locator('form .form-alert')).not.toBeEmpty();
  await everyWay(page, 'login-error');
  await page.goto('/signup');
  await page.getByRole('button', { name: 'Create my card' }).click();
  await expect(page.locator('[data-field="username"] .field-error')).not.toBeEmpty();
  await everyWay(page, 'signup-errors');
  await page.goto('/no-such-page');
  await everyWay(page, 'not-found');
});

test('the card: filling up, and a free coffee ready', async ({ person }) => {
  const { page, api } = await customerWith(person, [3, 4]);
  await expect(page.locator('#card-status')).toHaveText(/^7 of/);
  await everyWay(page, 'card');
  const perReward = (await (await api.get('/api/v1/stamps')).json()).stamps_per_reward;
  const staff = await apiAs(STAFF());
  await stampByApi(staff, (await (await api.get('/api/v1/users/me')).json()).phone, perReward - 7 + 2);
  await staff.dispose();
  await page.reload();
  await expect(page.locator('#card-status')).toHaveText('Free coffee ready!');
  await expect(page.locator('.code-panel svg.qr')).toBeVisible();
  await everyWay(page, 'card-ready');
  await api.dispose();
});

test('history, devices and profile', async ({ person }) => {
  const { page, api, customer } = await customerWith(person, [1, 2, 10, 1], 'hist');
  const counter = await apiAs(STAFF());
  expect((await counter.post('/api/v1/stamps/redemptions', { data: { phone: customer.phone } })).status()).toBe(201);
  await counter.dispose();
  await page.goto('/history');
  await expect(page.locator('.events > li')).toHaveCount(5);
  await everyWay(page, 'history');
  await page.goto('/sessions');
  await expect(page.locator('.session')).toHaveCount(2);
  await everyWay(page, 'sessions');
  await page.goto('/profile');
  await expect(page.getByLabel('Username')).toHaveValue(customer.username);
  await everyWay(page, 'profile');
  await page.goto('/staff');
  await everyWay(page, 'forbidden');
  await api.dispose();
});

test('the counter, after a stamp that makes a reward ready', async ({ person }) => {
  const customer = newCustomer('counter');
  const api = await signUpByApi(customer);
  const perReward = (await (await api.get('/api/v1/stamps')).json()).stamps_per_reward;
  const { page } = await person();
  await logIn(page, STAFF());
  await everyWay(page, 'staff-empty');
  const staff = await apiAs(STAFF());
  await stampByApi(staff, customer.phone, perReward - 2);
  await staff.dispose();
  await page.setViewportSize(SIZES.phone); // stamp on a phone: the answer scrolls into view
  await page.getByLabel('Card code or phone number').fill(customer.phone);
  await page.getByLabel('Stamps', { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Stamp ×2' }).click();
  await expect(page.locator('.reward-ready')).toBeVisible();
  await everyWay(page, 'staff');
  await page.getByRole('button', { name: '한국어' }).click();
  await expect(h1(page)).toHaveText('카운터');
  await page.setViewportSize(SIZES.phone);
  await page.getByLabel('카드 코드 또는 전화번호').fill(customer.phone);
  await page.getByRole('button', { name: '스탬프 찍기' }).click();
  await expect(page.locator('.reward-ready')).toBeVisible();
  await everyWay(page, 'staff-ko');
  await api.dispose();
});

test('the screen of an account an admin deactivated', async ({ person }) => {
  const { page } = await customerWith(person, [], 'gone');
  await expect(page.locator('#card-status')).toBeVisible();
  // The next request's 401 says why (stood in for: this test is about the screen).
  await page.route('**/api/v1/stamps', (route) =>
    route.fulfill({
      status: 401,
      contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'tag:stampcard,2026:problem:unauthenticated', title: 'Authentication required', status: 401, code: 'unauthenticated', reason: 'account_deactivated' }),
    }),
  );
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(h1(page)).toHaveText('Your account is deactivated');
  await everyWay(page, 'deactivated');
});

test('the admin screen', async ({ person }) => {
  const customer = newCustomer('listed');
  (await signUpByApi(customer)).dispose();
  const { page } = await person();
  await logIn(page, ADMIN());
  await page.goto('/admin');
  await expect(page.locator('.users > li').first()).toBeVisible();
  await everyWay(page, 'admin');
});

test("the owner's screens: today and 30 days, the audit log, the poster", async ({ person }) => {
  const customer = newCustomer('owned');
  const api = await signUpByApi(customer);
  const staff = await apiAs(STAFF());
  await stampByApi(staff, customer.phone, 3);
  await staff.dispose();
  const { page } = await person();
  await logIn(page, ADMIN());
  await page.goto('/admin?view=overview');
  await expect(page.locator('svg.chart rect.bar')).toHaveCount(30);
  await expect(page.locator('.staff-table')).toBeVisible();
  await everyWay(page, 'admin-overview');
  await page.goto('/admin?view=audit');
  await expect(page.locator('.audit-entry').first()).toBeVisible();
  await everyWay(page, 'admin-audit');
  await page.goto('/admin?view=poster');
  await expect(page.locator('.poster-qr')).toBeVisible();
  await everyWay(page, 'admin-poster');
  await api.dispose();
});

test('the counter: an undo, and the history an admin voids from, with its dialog', async ({ person }) => {
  const customer = newCustomer('voidshot');
  const api = await signUpByApi(customer);
  const { page } = await person();
  await logIn(page, ADMIN());
  await page.getByLabel('Card code or phone number').fill(customer.phone);
  await page.getByRole('button', { name: 'Stamp', exact: true }).click();
  await expect(page.locator('.card-history li')).toHaveCount(1);
  await expect(page.locator('.recent .undo')).toBeVisible();
  await everyWay(page, 'staff-undo-history');
  await page.locator('.card-history button').first().click();
  await expect(page.locator('#void-dialog')).toBeVisible();
  await everyWay(page, 'staff-void-dialog');
  await api.dispose();
});

test('the card in Korean', async ({ person }) => {
  const { page, api } = await customerWith(person, [4], 'korean');
  await page.getByRole('button', { name: '한국어' }).click();
  await expect(h1(page)).toHaveText('내 스탬프 카드');
  await everyWay(page, 'card-ko');
  await api.dispose();
});

test('forgot password, and the reset page: errors, done, a used link (in Korean)', async ({ person }) => {
  const customer = newCustomer('resetshot');
  customer.email = `${customer.username}@example.com`;
  (await signUpByApi(customer)).dispose();
  await verifyEmailByApi(customer.email); // reset mails go only to proven addresses
  const { page } = await person();
  await page.goto('/forgot-password');
  await page.getByLabel('Email', { exact: true }).fill(customer.email);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.locator('#forgot-form .form-alert')).toContainText('on its way');
  await everyWay(page, 'forgot-password-sent');

  const link = resetLinkIn(await waitForMail(customer.email, { count: 2 }));
  await page.goto(link);
  const form = page.locator('#reset-form');
  await form.getByLabel('New password', { exact: true }).fill('12345678');
  await form.getByLabel('New password again').fill('12345678');
  await form.getByRole('button', { name: 'Set the new password' }).click();
  await expect(form.locator('[data-field="new_password"] .field-error')).not.toBeEmpty();
  await everyWay(page, 'reset-password-errors');
  const password = `${customer.password} anew`;
  await form.getByLabel('New password', { exact: true }).fill(password);
  await form.getByLabel('New password again').fill(password);
  await form.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.locator('#reset-outcome h2')).toHaveText('Password changed');
  await everyWay(page, 'reset-password-done');

  await page.goto(link);
  await page.getByRole('button', { name: '한국어' }).click();
  await expect(h1(page)).toHaveText('새 비밀번호 정하기');
  await form.getByLabel('새 비밀번호', { exact: true }).fill(`${password}!`);
  await form.getByLabel('새 비밀번호 다시 입력').fill(`${password}!`);
  await form.getByRole('button', { name: '새 비밀번호로 바꾸기' }).click();
  await expect(page.locator('#reset-outcome h2')).toHaveText('사용할 수 없는 링크입니다');
  await everyWay(page, 'reset-password-used-ko');
});

test('the profile with a phone code sent, and a wrong one typed', async ({ person }) => {
  const customer = newCustomer('codeshot');
  (await signUpByApi(customer)).dispose();
  const { page } = await person();
  await logIn(page, customer);
  await page.goto('/profile');
  const box = page.locator('#phone-verification');
  await box.getByRole('button', { name: 'Send me a code' }).click();
  const code = await waitForCode(customer.e164);
  await box.getByLabel('Code from the SMS').fill(String((Number(code) + 1) % 1_000_000).padStart(6, '0'));
  await box.getByRole('button', { name: 'Verify' }).click();
  await expect(box.locator('[data-field="code"] .field-error')).not.toBeEmpty();
  await box.scrollIntoViewIfNeeded();
  await everyWay(page, 'profile-phone-code');
});

test('the password asked for in place, over the profile (a session whose proof is old)', async ({ person }) => {
  // The short-window instance (run.sh): the proof is old after a few seconds, as after 10 minutes.
  const customer = newCustomer('reauthshot');
  (await signUpByApi(customer)).dispose();
  const { page } = await person({ baseURL: REAUTH_URL() });
  await logIn(page, customer);
  await page.goto('/profile');
  await page.getByLabel('Email (optional)').fill(`${customer.username}@example.com`);
  const { session } = await (await page.request.get('/api/v1/sessions/current')).json();
  await page.waitForTimeout(Math.max(0, Date.parse(session.authenticated_at) + REAUTH_WINDOW() * 1000 + 1500 - Date.now()));
  await page.getByRole('button', { name: 'Save' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByLabel('Your password')).toBeFocused();
  await everyWay(page, 'reauth-dialog');
  await dialog.getByLabel('Your password').fill('not my password at all');
  await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(dialog.locator('[data-field="password"] .field-error')).not.toBeEmpty();
  await everyWay(page, 'reauth-dialog-wrong');
});

test('the page of the link that proves an email: confirmed, and used (in Korean)', async ({ person }) => {
  const customer = newCustomer('mailshot');
  customer.email = `${customer.username}@example.com`;
  (await signUpByApi(customer)).dispose();
  const link = verifyLinkIn(await waitForMail(customer.email));
  const { page } = await person();
  await page.goto(link);
  await expect(page.locator('#verify-outcome h2')).toHaveText('Your address is confirmed');
  await everyWay(page, 'verify-email-done');
  await page.goto(link);
  await page.getByRole('button', { name: '한국어' }).click();
  await expect(h1(page)).toHaveText('이메일 주소 확인');
  await expect(page.locator('#verify-outcome h2')).toHaveText('사용할 수 없는 링크입니다');
  await everyWay(page, 'verify-email-used-ko');
});
