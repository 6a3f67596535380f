// Proving who owns an email or a phone, in the browser, with the real transports run.sh starts:
// aiosmtpd receives the mails (the link that proves an address, the password reset; into a
// Maildir), a local gateway the SMS (a file). The tests read what was delivered, follow the link
// or type the code, as a person would.
import { randomBytes } from 'node:crypto';
import {
  APP,
  apiAs,
  expect,
  h1,
  logIn,
  logInOnScreen,
  mailsTo,
  newCustomer,
  resetLinkIn,
  signUpByApi,
  smsTo,
  test,
  verifyEmailByApi,
  verifyLinkIn,
  waitForCode,
  waitForMail,
} from '../lib.js';

/**
 * A customer with a proven email address, signed up through the API (the address proven with
 * the link of the first mail: reset mails go only to proven addresses, so a reset is mail #2).
 */
async function customerWithEmail(prefix) {
  const customer = newCustomer(prefix);
  customer.email = `${customer.username}@example.com`;
  (await signUpByApi(customer)).dispose();
  await verifyEmailByApi(customer.email);
  return customer;
}

const SENT = 'If an account has this address, a link is on its way; it works for 30 minutes.';

test('forgot password: the mailed link sets a new password, logs every device out, and works once', async ({ person }) => {
  const customer = await customerWithEmail('forgot');
  // A device that is logged in all along.
  const laptop = await person();
  await logIn(laptop.page, customer);
  await expect(h1(laptop.page)).toHaveText('My stamp card');

  // Asking for the link, from the login screen.
  const { page } = await person();
  await page.goto('/login');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(h1(page)).toHaveText('Forgot your password?');
  await page.getByLabel('Email', { exact: true }).fill(customer.email);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.locator('#forgot-form .form-alert')).toContainText(SENT);

  // The mail: quoted-printable text with a link to the app the tests use.
  const mail = await waitForMail(customer.email, { count: 2 });
  const link = resetLinkIn(mail);
  expect(link.startsWith(`${APP()}/reset-password#token=`), link).toBe(true);

  // The token leaves the address bar at once: a reload has nothing to use.
  await page.goto(link);
  await expect(h1(page)).toHaveText('Choose a new password');
  await expect(page).toHaveURL(`${APP()}/reset-password`);
  expect(await page.evaluate(() => location.hash)).toBe('');
  await page.reload();
  await expect(page.locator('#reset-outcome h2')).toHaveText('No link to use');
  await page.goto(link);
  const form = page.locator('#reset-form');
  await expect(form.getByLabel('New password', { exact: true })).toBeFocused();

  // The server's rule next to the field; a mismatch is caught before asking it.
  await form.getByLabel('New password', { exact: true }).fill('12345678');
  await form.getByLabel('New password again').fill('12345678');
  await form.getByRole('button', { name: 'Set the new password' }).click();
  await expect(form.locator('[data-field="new_password"] .field-error')).not.toBeEmpty();
  await expect(form.getByLabel('New password', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  const newPassword = `fresh roast ${randomBytes(4).toString('hex')}`;
  await form.getByLabel('New password', { exact: true }).fill(newPassword);
  await form.getByLabel('New password again').fill(`${newPassword}!`);
  await form.getByRole('button', { name: 'Set the new password' }).click();
  await expect(form.locator('[data-field="confirm_password"] .field-error')).toHaveText('The two passwords are not the same.');
  await expect(form.getByLabel('New password again')).toBeFocused();

  await form.getByLabel('New password again').fill(newPassword);
  await form.getByRole('button', { name: 'Set the new password' }).click();
  const outcome = page.locator('#reset-outcome');
  await expect(outcome.getByRole('heading', { name: 'Password changed' })).toBeFocused();
  await expect(outcome).toContainText('every device that was logged in to your account is logged out');

  // The laptop's next request finds its session gone: to the login screen, which says why.
  await laptop.page.getByRole('link', { name: 'History' }).click();
  await expect(laptop.page).toHaveURL(/\/login\?next=%2Fhistory$/);
  await expect(laptop.page.getByText('Your session has ended. Please log in again.')).toBeVisible();

  // The same link a second time: used.
  await outcome.getByRole('link', { name: 'Log in' }).click();
  await expect(h1(page)).toHaveText('Log in');
  await page.goto(link);
  await form.getByLabel('New password', { exact: true }).fill(`${newPassword} again`);
  await form.getByLabel('New password again').fill(`${newPassword} again`);
  await form.getByRole('button', { name: 'Set the new password' }).click();
  await expect(outcome.getByRole('heading', { name: 'This link does not work' })).toBeFocused();
  await expect(outcome).toContainText('unknown, already used or expired');
  await outcome.getByRole('link', { name: 'Ask for a new link' }).click();
  await expect(h1(page)).toHaveText('Forgot your password?');

  // The new password logs in (and takes the laptop back to where it was); the old one does not.
  await logInOnScreen(laptop.page, { username: customer.username, password: newPassword });
  await expect(laptop.page).toHaveURL(/\/history$/);
  const old = await apiAs(null);
  const refused = await old.post('/api/v1/sessions', { data: { username: customer.username, password: customer.password } });
  expect(refused.status()).toBe(401);
  await old.dispose();
});

test('an unknown address gets the same answer as a known one, and no mail; a malformed one is told', async ({ person }) => {
  const known = await customerWithEmail('known');
  const unknown = `nobody_${randomBytes(4).toString('hex')}@example.com`;
  const { page } = await person();
  await page.goto('/forgot-password');
  const form = page.locator('#forgot-form');
  const email = form.getByLabel('Email', { exact: true });
  const send = form.getByRole('button', { name: 'Send me a link' });

  await email.fill('not an address');
  await send.click();
  await expect(form.locator('[data-field="email"] .field-error')).not.toBeEmpty();
  await expect(email).toHaveAttribute('aria-invalid', 'true');

  await email.fill(unknown);
  await send.click();
  await expect(form.locator('.form-alert')).toContainText(SENT);
  const forUnknown = await form.locator('.form-alert').innerText();
  await email.fill(known.email);
  await send.click();
  await expect(email).not.toHaveAttribute('aria-invalid', 'true');
  await expect(form.locator('.form-alert')).toContainText(SENT);
  expect(await form.locator('.form-alert').innerText()).toBe(forUnknown);

  // The known address's mail comes (after the one that proved it); the unknown one, asked for
  // first, gets none.
  resetLinkIn(await waitForMail(known.email, { count: 2 }));
  await page.waitForTimeout(500);
  expect(await mailsTo(unknown)).toEqual([]);
});

test('phone verification in the profile: a code by SMS, a wrong code, the right one; a new number is unverified again', async ({ person }) => {
  const customer = newCustomer('verify');
  (await signUpByApi(customer)).dispose();
  const { page } = await person();
  await logIn(page, customer);
  await page.goto('/profile');
  const box = page.locator('#phone-verification');
  const badge = box.locator('.verify-badge');
  await expect(box.locator('#phone-status')).toContainText(customer.phone);
  await expect(badge).toHaveText('Not verified');

  await box.getByRole('button', { name: 'Send me a code' }).click();
  const codeField = box.getByLabel('Code from the SMS');
  await expect(codeField).toBeFocused();
  await expect(codeField).toHaveAttribute('inputmode', 'numeric');
  await expect(codeField).toHaveAttribute('autocomplete', 'one-time-code');
  await expect(box).toContainText(`We sent 6 digits to ${customer.phone}. The code works for 10 minutes.`);
  const code = await waitForCode(customer.e164);

  // Not six digits: said here, without spending one of the server's 5 tries.
  const verify = box.getByRole('button', { name: 'Verify' });
  await codeField.fill('12 34');
  await verify.click();
  await expect(box.locator('[data-field="code"] .field-error')).toHaveText('Type the 6 digits of the SMS.');
  // A wrong code: the server's 422 invalid_code, next to the field.
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  await codeField.fill(wrong);
  await verify.click();
  await expect(box.locator('[data-field="code"] .field-error')).toHaveText(
    'Wrong or expired code. After 5 wrong tries, ask for a new one.',
  );
  await expect(codeField).toHaveAttribute('aria-invalid', 'true');
  await expect(badge).toHaveText('Not verified');

  // The right one (typed as people copy it, with a space), then the screen says verified.
  await codeField.fill(`${code.slice(0, 3)} ${code.slice(3)}`);
  await verify.click();
  await expect(badge).toHaveText('Verified');
  await expect(box.locator('#phone-status')).toBeFocused();
  await expect(box.getByRole('button', { name: /code/ })).toHaveCount(0);
  expect((await (await page.request.get('/api/v1/users/me')).json()).phone_verified).toBe(true);
  await page.reload();
  await expect(badge).toHaveText('Verified');

  // Another number in the details: not proven, the screen says so at once.
  const other = newCustomer('other');
  const details = page.locator('#details-form');
  await details.getByLabel('Phone number (optional)').fill(other.phone);
  await details.getByRole('button', { name: 'Save' }).click();
  await expect(details.locator('.form-alert')).toHaveText('Saved.');
  await expect(box.locator('#phone-status')).toContainText(other.phone);
  await expect(badge).toHaveText('Not verified');
  await expect(box.getByRole('button', { name: 'Send me a code' })).toBeVisible();
  expect((await (await page.request.get('/api/v1/users/me')).json()).phone_verified).toBe(false);
});

test('phone verification: without a phone there is nothing to send; a second code within a minute says the limits and when', async ({ person }) => {
  const nophone = newCustomer('nophone');
  delete nophone.phone;
  (await signUpByApi(nophone)).dispose();
  const first = await person();
  await logIn(first.page, nophone);
  await first.page.goto('/profile');
  const none = first.page.locator('#phone-verification');
  await expect(none).toContainText('Add a phone number above');
  await expect(none.getByRole('button')).toHaveCount(0);

  // One code to the number (from another device); a number gets at most one a minute.
  const customer = newCustomer('often');
  const api = await signUpByApi(customer);
  expect((await api.post('/api/v1/users/me/phone-verification')).status()).toBe(202);
  await api.dispose();
  const { page } = await person();
  await logIn(page, customer);
  await page.goto('/profile');
  const box = page.locator('#phone-verification');
  await box.getByRole('button', { name: 'Send me a code' }).click();
  const alert = box.locator('#phone-send-form .form-alert');
  await expect(alert).toBeFocused();
  await expect(alert).toHaveText(
    /^No code sent: a number gets at most one code a minute, 3 an hour and 10 a day \(and an account 5 an hour\)\. Try again in (\d|[1-5]\d|60) seconds?\.$/,
  );
  expect((await smsTo(customer.e164)).length).toBe(1);
});

test('/verify-email confirms a link taken from the real SMTP listener, in another browser; the profile then shows the address verified', async ({ person }) => {
  const customer = newCustomer('mailproof');
  const email = `${customer.username}@example.com`;
  const { page } = await person();
  await page.goto('/signup');
  await page.getByLabel('Username').fill(customer.username);
  await page.getByLabel('Password', { exact: true }).fill(customer.password);
  await page.getByLabel('Email (optional)').fill(email);
  await page.getByRole('button', { name: 'Create my card' }).click();
  await expect(page).toHaveURL(/\/card$/);
  await page.getByRole('navigation').getByRole('link', { name: 'Profile' }).click();
  const box = page.locator('#email-verification');
  await expect(box.locator('#email-status')).toContainText(email);
  await expect(box.locator('.verify-badge')).toHaveText('Not verified');

  // The mail signing up sent: a link to the app the tests use, the token in the fragment.
  const link = verifyLinkIn(await waitForMail(email));
  expect(link.startsWith(`${APP()}/verify-email#token=`), link).toBe(true);

  // Opened elsewhere (a phone's mail app: another browser, logged in to nothing).
  const other = await person();
  await other.page.goto(link);
  await expect(h1(other.page)).toHaveText('Confirm your email address');
  const outcome = other.page.locator('#verify-outcome');
  await expect(outcome.getByRole('heading', { name: 'Your address is confirmed' })).toBeFocused();
  await expect(other.page).toHaveURL(`${APP()}/verify-email`); // the token left the address bar
  expect(await other.page.evaluate(() => location.hash)).toBe('');
  await expect(outcome.getByRole('link', { name: 'Log in' })).toHaveAttribute('href', '/login');
  // A reload says it again (not "no link").
  await other.page.reload();
  await expect(outcome.getByRole('heading')).toHaveText('Your address is confirmed');

  // The profile in the first browser, back in front: verified.
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await expect(box.locator('.verify-badge')).toHaveText('Verified');
  await expect(box.getByRole('button')).toHaveCount(0);
  await page.reload();
  await expect(box.locator('.verify-badge')).toHaveText('Verified');
  expect((await (await page.request.get('/api/v1/users/me')).json()).email_verified).toBe(true);

  // The same link again (a third browser): used.
  const third = await person();
  await third.page.goto(link);
  const dead = third.page.locator('#verify-outcome');
  await expect(dead.getByRole('heading', { name: 'This link does not work' })).toBeFocused();
  await expect(dead).toContainText('unknown, already used or expired');
  await expect(dead.getByRole('link', { name: 'Ask for a new link' })).toHaveAttribute('href', '/profile');
  // Without a link at all (a new page: a reload of this one would say "used" again).
  await third.page.goto('/login');
  await third.page.goto('/verify-email');
  await expect(third.page.locator('#verify-outcome h2')).toHaveText('No link to use');
});

test('the profile sends the link again; the newer link proves the address, the older one is dead', async ({ person }) => {
  const customer = newCustomer('mailagain');
  customer.email = `${customer.username}@example.com`;
  (await signUpByApi(customer)).dispose();
  const firstLink = verifyLinkIn(await waitForMail(customer.email));
  const { page } = await person();
  await logIn(page, customer);
  await page.goto('/profile');
  const box = page.locator('#email-verification');
  await expect(box.locator('.verify-badge')).toHaveText('Not verified');
  await expect(box).toContainText('Until then no link to choose a new password can be sent to it.');

  await box.getByRole('button', { name: 'Send the link again' }).click();
  await expect(box.locator('.form-alert')).toHaveText(
    `A link is on its way to ${customer.email}. It works for 24 hours. Nothing after a few minutes? Check the spam folder.`,
  );
  const secondLink = verifyLinkIn(await waitForMail(customer.email, { count: 2 }));
  expect(secondLink).not.toBe(firstLink);

  // In this browser, logged in: confirmed, and the way back to the profile, which says so.
  await page.goto(secondLink);
  const outcome = page.locator('#verify-outcome');
  await expect(outcome.getByRole('heading', { name: 'Your address is confirmed' })).toBeFocused();
  await outcome.getByRole('link', { name: 'Go to my profile' }).click();
  await expect(h1(page)).toHaveText('Profile');
  await expect(box.locator('.verify-badge')).toHaveText('Verified');
  await expect(box).toContainText('a link to choose a new one can be sent to it');

  // A newer link ended the first one.
  await page.goto(firstLink);
  await expect(outcome.getByRole('heading', { name: 'This link does not work' })).toBeFocused();
});
