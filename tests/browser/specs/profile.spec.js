// The profile: details with the server's message next to each bad field, the password change
// (which logs other devices out), and deleting the account with the password.
import { apiAs, expect, h1, newCustomer, signUpOnScreen, test } from '../lib.js';

test('profile edit shows every bad field next to it, then saves', async ({ person }) => {
  const customer = newCustomer('profile');
  const { page } = await person();
  await signUpOnScreen(page, customer);
  await page.getByRole('link', { name: 'Profile' }).click();
  const form = page.locator('#details-form');
  await form.getByLabel('Phone number (optional)').fill('12');
  await form.getByLabel('Email (optional)').fill('not-an-email');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.locator('[data-field="phone"] .field-error')).not.toBeEmpty();
  await expect(form.locator('[data-field="email"] .field-error')).not.toBeEmpty();
  await expect(form.getByLabel('Phone number (optional)')).toHaveAttribute('aria-invalid', 'true');
  await expect(form.getByLabel('Email (optional)')).toBeFocused();

  await form.getByLabel('Phone number (optional)').fill('+82 10 5555 0000'.replace('0000', customer.phone.slice(9)));
  await form.getByLabel('Email (optional)').fill(`${customer.username}@example.com`);
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.locator('.form-alert')).toHaveText('Saved.');
  await expect(form.getByLabel('Phone number (optional)')).toHaveValue(`010-5555-${customer.phone.slice(9)}`);
  const me = await (await page.request.get('/api/v1/users/me')).json();
  expect(me.email).toBe(`${customer.username}@example.com`);
  await page.reload();
  await expect(form.getByLabel('Email (optional)')).toHaveValue(`${customer.username}@example.com`);

  // Emptying the email removes it (null).
  await form.getByLabel('Email (optional)').fill('');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.locator('.form-alert')).toHaveText('Saved.');
  expect((await (await page.request.get('/api/v1/users/me')).json()).email).toBeNull();
});

test('password change: wrong current password, weak new one, then success logs other devices out', async ({ person }) => {
  const customer = newCustomer('pw');
  const { page } = await person();
  await signUpOnScreen(page, customer);
  const otherDevice = await apiAs(customer);
  await page.goto('/profile');
  const form = page.locator('#password-form');

  await form.getByLabel('Current password').fill('not the password');
  await form.getByLabel('New password').fill('a much better secret 42');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.locator('.form-alert')).not.toBeEmpty();

  await form.getByLabel('Current password').fill(customer.password);
  await form.getByLabel('New password').fill('12345678');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.locator('[data-field="new_password"] .field-error')).not.toBeEmpty();

  await form.getByLabel('New password').fill('a much better secret 42');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.locator('.form-alert')).toHaveText('Password changed. Your other devices are logged out.');
  await expect(form.getByLabel('Current password')).toHaveValue('');
  expect((await otherDevice.get('/api/v1/sessions/current')).status()).toBe(401);
  // This device stays logged in.
  await page.getByRole('link', { name: 'My card' }).click();
  await expect(h1(page)).toHaveText('My stamp card');
  await otherDevice.dispose();
});

test('account deletion asks for the password and says plainly what goes', async ({ person }) => {
  const customer = newCustomer('bye');
  const { page } = await person();
  await signUpOnScreen(page, customer);
  await page.goto('/profile');
  const form = page.locator('#delete-form');
  await expect(form.locator('.warning')).toContainText('stamp card');
  await expect(form.locator('.warning')).toContainText('cannot be undone');

  await form.getByLabel('Your password, to confirm').fill('wrong wrong wrong');
  await form.getByRole('button', { name: 'Delete my account' }).click();
  await expect(form.locator('.form-alert')).not.toBeEmpty();
  expect((await page.request.get('/api/v1/users/me')).status()).toBe(200);

  await form.getByLabel('Your password, to confirm').fill(customer.password);
  await form.getByRole('button', { name: 'Delete my account' }).click();
  await expect(h1(page)).toHaveText('Every coffee counts');
  await expect(page.getByText('Your account and your stamp card are deleted.')).toBeVisible();
  const login = await page.request.post('/api/v1/sessions', { data: { username: customer.username, password: customer.password } });
  expect(login.status()).toBe(401);
});
