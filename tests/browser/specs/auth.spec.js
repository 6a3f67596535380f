// Logging in and out as the browser sees it: the `next` flow for deep links, a session revoked
// elsewhere (401 from any call) sends the app to the login screen and back afterwards, an account
// an admin deactivated lands on a screen that says so, and the session cookie is out of the
// page's reach.
import { ADMIN, apiAs, expect, h1, logIn, logInOnScreen, newCustomer, signUpByApi, signUpOnScreen, test } from '../lib.js';

test('a deep link while logged out goes to login and comes back', async ({ person }) => {
  const customer = newCustomer('deep');
  (await signUpByApi(customer)).dispose();
  const { page } = await person();
  await page.goto('/history');
  await expect(page).toHaveURL(/\/login\?next=%2Fhistory$/);
  await expect(page.getByText('Log in to continue where you were.')).toBeVisible();
  // The wrong password first: what happened and what to do, and still here.
  await logInOnScreen(page, { ...customer, password: 'not my password at all' });
  await expect(page.locator('form .form-alert')).toHaveText(
    'The username or the password is wrong, or the account is deactivated. Check both and try again.',
  );
  await expect(page).toHaveURL(/\/login\?next=%2Fhistory$/);
  await logInOnScreen(page, customer);
  await expect(page).toHaveURL(/\/history$/);
  await expect(h1(page)).toHaveText('History');
});

test('a next that is not ours is not followed', async ({ person }) => {
  const customer = newCustomer('next');
  (await signUpByApi(customer)).dispose();
  const { page } = await person();
  for (const next of ['//evil.example/card', 'https://evil.example/', '/api/v1/users/me', '/nope']) {
    await page.goto(`/login?next=${encodeURIComponent(next)}`);
    await logInOnScreen(page, customer);
    await expect(page).toHaveURL(/\/card$/);
    await page.request.delete('/api/v1/sessions/current');
  }
});

test('a session revoked from another device sends the app to login, and back afterwards', async ({ person }) => {
  const customer = newCustomer('revoked');
  const phone = await person();
  await signUpOnScreen(phone.page, customer);
  await phone.page.getByRole('link', { name: 'Devices' }).click();
  await expect(phone.page.locator('.session')).toHaveCount(1);

  // The same customer on a laptop logs every other device out.
  const laptop = await person({ viewport: { width: 1280, height: 800 } });
  await logIn(laptop.page, customer);
  await laptop.page.getByRole('link', { name: 'Devices' }).click();
  await expect(laptop.page.locator('.session')).toHaveCount(2);
  await laptop.page.getByRole('button', { name: 'Log out everywhere else' }).click();
  await expect(laptop.page.getByText('1 other device is logged out.')).toBeVisible();
  await expect(laptop.page.locator('.session')).toHaveCount(1);

  // The phone's next call is a 401: to the login screen, which says why, and back to History.
  await phone.page.getByRole('link', { name: 'History' }).click();
  await expect(phone.page).toHaveURL(/\/login\?next=%2Fhistory$/);
  await expect(phone.page.getByText('Your session has ended. Please log in again.')).toBeVisible();
  await logInOnScreen(phone.page, customer);
  await expect(phone.page).toHaveURL(/\/history$/);
  await expect(h1(phone.page)).toHaveText('History');

  // Now the laptop is revoked one at a time from the phone, and its next (unsafe) call, a
  // profile save, also lands on login and comes back to the profile.
  await laptop.page.getByRole('link', { name: 'Profile' }).click();
  await phone.page.getByRole('link', { name: 'Devices' }).click();
  const other = phone.page.locator('.session:not(.is-current)');
  await expect(other).toHaveCount(1);
  await other.getByRole('button', { name: /^Log out/ }).click();
  await expect(phone.page.getByText(/is logged out\.$/)).toBeVisible();
  await expect(other).toHaveCount(0);
  await laptop.page.getByLabel('Email (optional)').fill('laptop@example.com');
  await laptop.page.getByRole('button', { name: 'Save' }).click();
  await expect(laptop.page).toHaveURL(/\/login\?next=%2Fprofile$/);
  await logInOnScreen(laptop.page, customer);
  await expect(laptop.page).toHaveURL(/\/profile$/);
});

test('an account an admin deactivates lands on a screen that says so', async ({ person }) => {
  const customer = newCustomer('deactivated');
  (await signUpByApi(customer)).dispose();
  const { page } = await person();
  await logIn(page, customer);
  await expect(h1(page)).toHaveText('My stamp card');

  const admin = await apiAs(ADMIN());
  const found = await (await admin.get('/api/v1/users', { params: { q: customer.username } })).json();
  const id = found.items.find((u) => u.username === customer.username).id;
  expect((await admin.patch(`/api/v1/users/${id}`, { data: { is_active: false } })).status()).toBe(200);

  // The card's next request is a 401 that names the reason; the app lands on the login screen,
  // which says what happened and what to do.
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/stamps');
  await page.getByRole('button', { name: 'Refresh' }).click();
  expect(await (await answer).json()).toMatchObject({ status: 401, code: 'unauthenticated', reason: 'account_deactivated' });
  await expect(page).toHaveURL(/\/login$/);
  await expect(h1(page)).toHaveText('Your account is deactivated');
  await expect(page.locator('#deactivated')).toContainText('ask the cafe staff to reactivate it');

  // Reactivated, the same person logs in again from there.
  expect((await admin.patch(`/api/v1/users/${id}`, { data: { is_active: true } })).status()).toBe(200);
  await logInOnScreen(page, customer);
  await expect(page).toHaveURL(/\/card$/);
  await expect(h1(page)).toHaveText('My stamp card');
  await admin.dispose();
});

test('the page cannot read the session cookie', async ({ person }) => {
  const customer = newCustomer('cookie');
  const { page, context } = await person();
  await signUpOnScreen(page, customer);
  const cookies = await context.cookies();
  const session = cookies.find((c) => /stampcard_session$/.test(c.name));
  expect(session, 'a session cookie is set').toBeTruthy();
  expect(session.httpOnly).toBe(true);
  expect(session.sameSite).toBe('Lax');
  const visible = await page.evaluate(() => document.cookie);
  expect(visible).not.toContain('stampcard_session');
  expect(visible).not.toContain(session.value);
  // Logging in again issues a new key (fixation defence), still out of reach.
  await page.request.delete('/api/v1/sessions/current');
  await logIn(page, customer);
  const renewed = (await context.cookies()).find((c) => /stampcard_session$/.test(c.name));
  expect(renewed.value).not.toBe(session.value);
  expect(await page.evaluate(() => document.cookie)).not.toContain(renewed.value);
});

test('a customer cannot open the counter or the admin screens', async ({ person }) => {
  const customer = newCustomer('nosy');
  const { page } = await person();
  await signUpOnScreen(page, customer);
  for (const path of ['/staff', '/admin']) {
    await page.goto(path);
    await expect(h1(page)).toHaveText('This page is not for your account');
  }
  await expect(page.getByRole('navigation').getByRole('link')).toHaveText(['My card', 'History', 'Devices', 'Profile']);
  await page.getByRole('link', { name: 'Back to my page' }).click();
  await expect(page).toHaveURL(/\/card$/);
  // Logged in, the login and sign-up screens lead home.
  await page.goto('/login');
  await expect(page).toHaveURL(/\/card$/);
  await page.goto('/signup');
  await expect(page).toHaveURL(/\/card$/);
});
