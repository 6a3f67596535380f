// Proof before sensitive changes, in the browser: a change of the username, email or phone (and
// every admin change) made with a session whose password proof is old is refused by the server
// (403 reauthentication_required); the app asks for the password in place, over the same form,
// and repeats the change after it.
//
// The session's proof is made old honestly: these tests use a third instance of the server
// (run.sh: STAMPCARD_REAUTH_URL, same database) whose STAMPCARD_REAUTH_WINDOW is a few seconds
// instead of 10 minutes, log in there, and wait out the window. Nothing is aged by hand: the
// server alone decides the proof is too old, as it would in 10 minutes with the default.
import { request } from '@playwright/test';
import { ADMIN, REAUTH_URL, REAUTH_WINDOW, expect, logIn, newCustomer, signUpByApi, test } from '../lib.js';

/** A person whose browser uses the short-window instance. */
async function personThere(person, options = {}) {
  return person({ baseURL: REAUTH_URL(), ...options });
}

/**
 * Waits until this session's password proof is older than the window: its `authenticated_at`
 * (to the second; the server runs on this machine's clock) plus the window, plus a margin.
 */
async function proofGoesStale(page) {
  const { session } = await (await page.request.get('/api/v1/sessions/current')).json();
  const stale = Date.parse(session.authenticated_at) + REAUTH_WINDOW() * 1000 + 1500;
  await page.waitForTimeout(Math.max(0, stale - Date.now()));
}

/** The session cookie (the app never reads it: the test checks that it was re-issued). */
async function sessionCookie(context) {
  return (await context.cookies()).find((c) => /stampcard_session$/.test(c.name));
}

const patches = (page) => {
  const seen = [];
  page.on('response', (r) => {
    if (r.request().method() === 'PATCH' && r.url().includes('/api/v1/users/')) seen.push(r.status());
  });
  return seen;
};

test('changes the email from the profile screen with an old session, is asked for the password in place, and the change goes through after it', async ({ person }) => {
  const customer = newCustomer('reauth');
  (await signUpByApi(customer)).dispose();
  const { page, context } = await personThere(person);
  await logIn(page, customer);
  await page.goto('/profile');
  const form = page.locator('#details-form');
  const email = `${customer.username}@example.com`;
  await form.getByLabel('Email (optional)').fill(email);
  await proofGoesStale(page);
  const before = await sessionCookie(context);
  const statuses = patches(page);

  await form.getByRole('button', { name: 'Save' }).click();
  // The dialog, over the same form: labelled, the password field focused.
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toHaveAccessibleDescription(/needs your password/);
  const password = dialog.getByLabel('Your password');
  await expect(password).toBeFocused();
  await expect(password).toHaveAttribute('autocomplete', 'current-password');
  expect(statuses).toEqual([403]);
  expect((await (await page.request.get('/api/v1/users/me')).json()).email, 'nothing changed yet').toBeNull();
  await expect(form.getByLabel('Email (optional)')).toHaveValue(email); // behind it, as typed

  await password.fill(customer.password);
  await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(form.locator('.form-alert')).toHaveText('Saved.');
  expect(statuses, 'the change, then the same change again after the proof').toEqual([403, 200]);
  const me = await (await page.request.get('/api/v1/users/me')).json();
  expect(me.email).toBe(email);
  expect(me.email_verified).toBe(false);
  // The new address is not proven yet: the panel says so, and that a link is on its way.
  const box = page.locator('#email-verification');
  await expect(box.locator('.verify-badge')).toHaveText('Not verified');
  await expect(box.locator('.form-alert')).toContainText(`A link is on its way to ${email}.`);
  await expect(page.locator('dialog')).toHaveCount(0);

  // The proof moved the session to a new key: the cookie was re-issued, and a copy of the old
  // one (say, a stolen one) is nobody's any more.
  const after = await sessionCookie(context);
  expect(after.value).not.toBe(before.value);
  const stolen = await request.newContext({ baseURL: REAUTH_URL(), extraHTTPHeaders: { Cookie: `${before.name}=${before.value}` } });
  expect((await stolen.get('/api/v1/users/me')).status(), 'the cookie from before the proof').toBe(401);
  await stolen.dispose();
});

test('the password dialog: a wrong password is said and can be tried again; Esc and Cancel keep the form as typed', async ({ person }) => {
  const customer = newCustomer('reauthno');
  (await signUpByApi(customer)).dispose();
  const { page } = await personThere(person);
  await logIn(page, customer);
  await page.goto('/profile');
  const form = page.locator('#details-form');
  const other = newCustomer('reauthnew');
  const typed = { username: other.username, phone: other.phone, email: `${other.username}@example.com` };
  await form.getByLabel('Username').fill(typed.username);
  await form.getByLabel('Phone number (optional)').fill(typed.phone);
  await form.getByLabel('Email (optional)').fill(typed.email);
  await proofGoesStale(page);
  const save = form.getByRole('button', { name: 'Save' });
  await save.click();

  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  const password = dialog.getByLabel('Your password');
  await expect(password).toBeFocused();
  // Nothing typed: said next to the field, without asking the server.
  await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(dialog.locator('[data-field="password"] .field-error')).toHaveText('Type your password.');
  // A wrong one: the server's 403 invalid_password in the app's words, the dialog stays.
  await password.fill('not my password at all');
  await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(dialog.locator('[data-field="password"] .field-error')).toHaveText(
    'The password is wrong. Type the password you log in with.',
  );
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await expect(password).toBeFocused();
  await expect(dialog).toBeVisible();

  // Esc: closed, nothing changed, everything typed still there; the form says so (focused, as
  // every answer of a form is).
  await page.keyboard.press('Escape');
  await expect(page.locator('dialog')).toHaveCount(0);
  await expect(form.locator('.form-alert')).toHaveText('Not saved: this change needs your password. Press Save again when you are ready.');
  await expect(form.locator('.form-alert')).toBeFocused();
  await expect(form.getByLabel('Username')).toHaveValue(typed.username);
  await expect(form.getByLabel('Phone number (optional)')).toHaveValue(typed.phone);
  await expect(form.getByLabel('Email (optional)')).toHaveValue(typed.email);
  let me = await (await page.request.get('/api/v1/users/me')).json();
  expect([me.username, me.email, me.phone]).toEqual([customer.username, null, customer.e164]);

  // Cancel does the same.
  await save.click();
  await expect(password).toBeFocused();
  await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(page.locator('dialog')).toHaveCount(0);
  await expect(form.getByLabel('Email (optional)')).toHaveValue(typed.email);

  // Save again, the right password: all three change at once.
  await save.click();
  await password.fill(customer.password);
  await password.press('Enter');
  await expect(form.locator('.form-alert')).toHaveText('Saved.');
  me = await (await page.request.get('/api/v1/users/me')).json();
  expect([me.username, me.email, me.phone]).toEqual([typed.username, typed.email, other.e164]);
});

test('an admin with an old session changes a role: the password in place, then the change', async ({ person }) => {
  const customer = newCustomer('reauthrole');
  const customerApi = await signUpByApi(customer);
  const { page } = await personThere(person, { viewport: { width: 1280, height: 800 } });
  await logIn(page, ADMIN());
  await page.goto('/admin');
  await page.getByLabel('Find a user').fill(customer.username);
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.locator(`.users > li[data-username="${customer.username}"]`);
  await expect(page.locator('.users > li')).toHaveCount(1);
  await proofGoesStale(page);
  const statuses = patches(page);

  const set = row.getByRole('button', { name: `Make ${customer.username} Staff` });
  await set.click();
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await expect(dialog.getByLabel('Your password')).toBeFocused();
  // Cancelled first: the row says nothing changed and keeps the choice, to send again.
  await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(row.getByRole('alert')).toHaveText('Not changed: this needs your password. Press the button again when you are ready.');
  await expect(row.getByRole('button', { pressed: true })).toHaveText('Customer');
  expect((await (await customerApi.get('/api/v1/users/me')).json()).role).toBe('customer');

  await set.click();
  await dialog.getByLabel('Your password').fill(ADMIN().password);
  await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(page.locator(`.users > li[data-username="${customer.username}"] .form-alert`)).toHaveText(`${customer.username} is updated.`);
  expect(statuses).toEqual([403, 403, 200]);
  expect((await (await customerApi.get('/api/v1/users/me')).json()).role).toBe('staff');
  await customerApi.dispose();
});
