// A customer's whole journey, with a barista in a second browser context: sign up, the card,
// stamps from the counter, a full card, the free coffee, the history, the devices, log out; and
// a reload on every screen on the way.
import { apiAs, expect, h1, logIn, newCustomer, signUpOnScreen, STAFF, test } from '../lib.js';

test('customer journey: sign up, stamped at the counter, 10 cups, redeem, history, log out', async ({ person }) => {
  const customer = newCustomer('minji');
  const { page } = await person();

  // The start page leads to sign-up.
  await page.goto('/');
  await expect(h1(page)).toHaveText('Every coffee counts');
  await page.getByRole('link', { name: 'Get your card' }).click();
  await expect(page).toHaveURL(/\/signup$/);
  await signUpOnScreen(page, customer);

  // An empty card with as many cups as the server says a reward takes.
  const card0 = await (await page.request.get('/api/v1/stamps')).json();
  const perReward = card0.stamps_per_reward;
  expect(perReward).toBeGreaterThan(3);
  expect(perReward).toBeLessThanOrEqual(13); // two stamps of at most 10 fill it below
  await expect(h1(page)).toHaveText('My stamp card');
  await expect(page.locator('.cups .cup-slot')).toHaveCount(perReward);
  await expect(page.locator('.cups .icon.is-filled')).toHaveCount(0);
  await expect(page.locator('#card-status')).toHaveText(`0 of ${perReward} stamps`);
  await page.reload();
  await expect(page.locator('#card-status')).toHaveText(`0 of ${perReward} stamps`);

  // The barista, in a browser of their own, stamps 3 by the phone number in another format.
  const barista = await person();
  await logIn(barista.page, STAFF());
  await expect(barista.page).toHaveURL(/\/staff$/);
  const counter = barista.page;
  await counter.getByLabel('Card code or phone number').fill(`+82 10 ${customer.phone.slice(4, 8)} ${customer.phone.slice(9)}`);
  await counter.getByRole('button', { name: 'One stamp more' }).click();
  await counter.getByRole('button', { name: 'One stamp more' }).click();
  await counter.getByRole('button', { name: 'Stamp ×3' }).click();
  await expect(counter.locator('#result')).toContainText('3 stamps added');
  await expect(counter.locator('.result-balance')).toHaveText('3 stamps on the card');
  await expect(counter.getByRole('button', { name: 'Stamp', exact: true })).toBeVisible(); // the count went back to 1

  // The customer's card catches up by itself (the stream), while they stand at the counter.
  await expect(page.locator('#card-status')).toHaveText(`3 of ${perReward} stamps`, { timeout: 2_000 });
  await expect(page.locator('.cups .icon.is-filled')).toHaveCount(3);

  // The rest of the card, typed into the count field: "reward ready" at the counter.
  await counter.getByLabel('Card code or phone number').fill(customer.phone);
  await counter.getByLabel('Stamps', { exact: true }).fill(String(perReward - 3));
  await counter.getByRole('button', { name: `Stamp ×${perReward - 3}` }).click();
  await expect(counter.locator('.reward-ready')).toHaveText('Reward ready: 1 free coffee');
  await expect(counter.getByRole('button', { name: 'Redeem a free coffee' })).toBeVisible();

  // Every cup full, and a clear "free coffee ready", with the code to show at the counter.
  await expect(page.locator('#card-status')).toHaveText('Free coffee ready!');
  await expect(page.locator('.cups .icon.is-filled')).toHaveCount(perReward);
  await expect(page.locator('.card-panel')).toHaveClass(/is-ready/);
  await expect(page.getByRole('button', { name: 'Redeem a free coffee' })).toHaveCount(0);
  await page.reload();
  await expect(page.locator('#card-status')).toHaveText('Free coffee ready!');

  // The barista redeems it, by the card code the customer shows.
  const code = (await page.locator('#card-code').textContent()).replace(/\s/g, '');
  expect(code).toMatch(/^\d{8}$/);
  await counter.getByLabel('Card code or phone number').fill(code);
  await counter.getByRole('button', { name: 'Look up the card' }).click();
  await counter.getByRole('button', { name: 'Redeem a free coffee' }).click();
  await expect(counter.locator('.result-what')).toHaveText('Free coffee redeemed');
  await expect(page.locator('#card-status')).toHaveText(`0 of ${perReward} stamps`, { timeout: 2_000 });
  const after = await (await page.request.get('/api/v1/stamps')).json();
  expect(after).toMatchObject({ balance: 0, total_earned: perReward, total_redeemed: perReward });

  // The history, newest first.
  await page.getByRole('link', { name: 'History' }).click();
  await expect(h1(page)).toHaveText('History');
  const events = page.locator('.events > li');
  await expect(events).toHaveCount(3);
  await expect(events.nth(0)).toContainText(`Free coffee (${perReward} stamps)`);
  await expect(events.nth(0)).toContainText('0 on the card');
  await expect(events.nth(1)).toContainText(`${perReward - 3} stamps`);
  await expect(events.nth(2)).toContainText('3 stamps');
  await page.reload();
  await expect(events).toHaveCount(3);

  // Devices: this one is marked.
  await page.getByRole('link', { name: 'Devices' }).click();
  await expect(h1(page)).toHaveText('Where you are logged in');
  await expect(page.locator('.session.is-current')).toContainText('This device');
  await page.reload();
  await expect(page.locator('.session.is-current')).toHaveCount(1);

  // Profile, and a reload there.
  await page.getByRole('link', { name: 'Profile' }).click();
  await expect(h1(page)).toHaveText('Profile');
  await page.reload();
  await expect(page.getByLabel('Phone number (optional)')).toHaveValue(customer.phone);

  // Log out: the card is behind the login again.
  await page.getByRole('link', { name: 'Devices' }).click();
  await page.getByRole('button', { name: 'Log out this device' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('status').filter({ hasText: 'You are logged out.' })).toBeVisible();
  expect((await page.request.get('/api/v1/sessions/current')).status()).toBe(401);
  await page.goto('/card');
  await expect(page).toHaveURL(/\/login\?next=%2Fcard$/);
});

test('the history pages through next_cursor', async ({ person }) => {
  const customer = newCustomer('pages');
  const { page } = await person();
  await signUpOnScreen(page, customer);
  const staff = await apiAs(STAFF());
  for (let i = 0; i < 23; i += 1) {
    const res = await staff.post('/api/v1/stamps', { data: { phone: customer.phone, count: 1 } });
    expect(res.status()).toBe(201);
  }
  await page.goto('/history');
  const events = page.locator('.events > li');
  await expect(events).toHaveCount(20);
  await expect(events.first()).toContainText('23 on the card');
  await page.getByRole('button', { name: 'Show more' }).click();
  await expect(events).toHaveCount(23);
  await expect(events.last()).toContainText('1 on the card');
  await expect(page.getByRole('button', { name: 'Show more' })).toHaveCount(0);
  // The keyboard focus moved to the first new entry, not to the top of the page.
  await expect(events.nth(20)).toBeFocused();
  await staff.dispose();
});
