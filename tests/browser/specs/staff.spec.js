// The counter: a double tap stamps once, a retry after a lost answer reuses the submission's
// Idempotency-Key (and stamps once), a new submission gets a new key; redemption for a customer;
// what is wrong with a phone number next to the field; all of it usable with the keyboard alone.
import { cardOf, expect, logIn, newCustomer, signUpByApi, STAFF, test } from '../lib.js';

async function counterFor(person) {
  const barista = await person();
  await logIn(barista.page, STAFF());
  await expect(barista.page).toHaveURL(/\/staff$/);
  const stampRequests = [];
  barista.page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/v1/stamps') {
      stampRequests.push(request.headers()['idempotency-key']);
    }
  });
  return { page: barista.page, stampRequests };
}

test('a double tap on "stamp" gives exactly one stamp', async ({ person }) => {
  const customer = newCustomer('double');
  const customerApi = await signUpByApi(customer);
  const { page, stampRequests } = await counterFor(person);

  await page.getByLabel('Card code or phone number').fill(customer.phone);
  await page.getByRole('button', { name: 'Stamp', exact: true }).dblclick();
  await expect(page.locator('#result')).toContainText('1 stamp added');
  // Two clicks in the same task too (faster than any finger): the second finds the button disabled.
  await page.getByLabel('Card code or phone number').fill(customer.phone);
  await page.evaluate(() => {
    const button = document.querySelector('#stamp');
    button.click();
    button.click();
    document.querySelector('#stamp-form').requestSubmit();
  });
  await expect(page.locator('.result-balance')).toHaveText('2 stamps on the card');
  await page.waitForTimeout(500); // a late second request would have landed by now

  expect((await cardOf(customerApi)).balance).toBe(2);
  expect(stampRequests).toHaveLength(2);
  for (const key of stampRequests) expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(stampRequests[0]).not.toBe(stampRequests[1]);
  await customerApi.dispose();
});

test('a retry after a lost answer resends the same Idempotency-Key and stamps once', async ({ person }) => {
  const customer = newCustomer('flaky');
  const customerApi = await signUpByApi(customer);
  const { page, stampRequests } = await counterFor(person);

  // The first stamp reaches the server, but its answer is lost on the way back.
  let lose = true;
  await page.route('**/api/v1/stamps', async (route) => {
    if (lose && route.request().method() === 'POST') {
      lose = false;
      const answer = await route.fetch();
      expect(answer.status()).toBe(201);
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  await page.getByLabel('Card code or phone number').fill(customer.phone);
  await page.getByRole('button', { name: 'Stamp', exact: true }).click();
  await expect(page.locator('#stamp-form .form-alert')).toContainText('No answer from the server');
  await expect(page.locator('.retry-note')).toHaveText('Press the button again to retry: it will not count twice.');
  expect((await cardOf(customerApi)).balance).toBe(1);

  // The retry: same key, the server replays its first answer, no second stamp.
  const replay = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/stamps'));
  await page.getByRole('button', { name: 'Stamp', exact: true }).click();
  expect((await replay).headers()['idempotent-replayed']).toBe('true');
  await expect(page.locator('.result-balance')).toHaveText('1 stamp on the card');
  expect((await cardOf(customerApi)).balance).toBe(1);
  expect(stampRequests).toHaveLength(2);
  expect(stampRequests[1]).toBe(stampRequests[0]);

  // The next press is a new submission: a new key, a second stamp.
  await page.getByLabel('Card code or phone number').fill(customer.phone);
  await page.getByRole('button', { name: 'Stamp', exact: true }).click();
  await expect(page.locator('.result-balance')).toHaveText('2 stamps on the card');
  expect(stampRequests[2]).not.toBe(stampRequests[0]);
  expect((await cardOf(customerApi)).balance).toBe(2);
  await customerApi.dispose();
});

test('the counter redeems a free coffee for a customer, once', async ({ person }) => {
  const customer = newCustomer('reward');
  const customerApi = await signUpByApi(customer);
  const perReward = (await cardOf(customerApi)).stamps_per_reward;
  const { page } = await counterFor(person);
  const redemptions = [];
  page.on('request', (r) => r.url().endsWith('/api/v1/stamps/redemptions') && redemptions.push(r.headers()['idempotency-key']));

  await page.getByLabel('Card code or phone number').fill(customer.phone.replaceAll('-', ''));
  await page.getByLabel('Stamps', { exact: true }).fill(String(Math.min(perReward, 10)));
  await page.getByRole('button', { name: /^Stamp/ }).click();
  if (perReward > 10) {
    await page.getByLabel('Card code or phone number').fill(customer.phone);
    await page.getByLabel('Stamps', { exact: true }).fill(String(perReward - 10));
    await page.getByRole('button', { name: /^Stamp/ }).click();
  }
  await expect(page.locator('#result')).toHaveClass(/is-ready/);
  await expect(page.locator('.reward-ready')).toHaveText('Reward ready: 1 free coffee');

  await page.getByRole('button', { name: 'Redeem a free coffee' }).dblclick();
  await expect(page.locator('.result-what')).toHaveText('Free coffee redeemed');
  await expect(page.locator('.result-balance')).toHaveText('0 stamps on the card');
  await expect(page.getByRole('button', { name: 'Redeem a free coffee' })).toHaveCount(0);
  expect(redemptions).toHaveLength(1);
  expect(redemptions[0]).toMatch(/^[0-9a-f-]{36}$/);
  expect(await cardOf(customerApi)).toMatchObject({ balance: 0, total_redeemed: perReward });
  await expect(page.locator('.recent li')).toHaveCount(perReward > 10 ? 3 : 2);
  await expect(page.locator('#result h2')).toHaveText(`Customer ${customer.phone.slice(0, 4)}****-${customer.phone.slice(9)}`);
  await customerApi.dispose();
});

test('empty, unknown and malformed phone numbers: what to do, once, next to the field', async ({ person }) => {
  const { page } = await counterFor(person);
  const phone = page.getByLabel('Card code or phone number');
  const error = page.locator('[data-field="customer"] .field-error');
  const alert = page.locator('#stamp-form .form-alert');

  await page.getByRole('button', { name: 'Stamp', exact: true }).click();
  await expect(error).toHaveText("Scan the customer's card code, or type its 8 digits or their phone number.");
  await expect(phone).toBeFocused();

  await phone.fill('010-0000-0001');
  await page.getByRole('button', { name: 'Stamp', exact: true }).click();
  await expect(phone).toHaveAttribute('aria-invalid', 'true');
  await expect(error).toHaveText('No customer has this phone number. Check it, or ask the customer to add it in their profile.');
  await expect(alert).toBeEmpty(); // said once, where it applies
  await expect(phone).toBeFocused();

  // The server's code (invalid_phone), in the app's words.
  await phone.fill('12');
  await page.getByRole('button', { name: 'Stamp', exact: true }).click();
  await expect(error).toHaveText('This is not a phone number we can use. Type a Korean number, like 010-1234-5678.');
  await expect(alert).toHaveText('Check the field marked below.');

  // A count out of range says the range.
  await phone.fill('010-0000-0001');
  await page.getByLabel('Stamps', { exact: true }).fill('50');
  await page.getByRole('button', { name: /^Stamp/ }).click();
  await expect(page.locator('[data-field="count"] .field-error')).toHaveText('Stamp 1 to 10 at a time.');
  await page.getByLabel('Stamps', { exact: true }).fill('1');

  // Looking a card up without stamping.
  const customer = newCustomer('lookup');
  const customerApi = await signUpByApi(customer);
  await phone.fill(customer.phone);
  await page.getByRole('button', { name: 'Look up the card' }).click();
  await expect(page.locator('.result-balance')).toHaveText('0 stamps on the card');
  await expect(phone).not.toHaveAttribute('aria-invalid');
  await customerApi.dispose();
});

test('the counter works with the keyboard alone, with a visible focus', async ({ person }) => {
  const customer = newCustomer('keys');
  const customerApi = await signUpByApi(customer);
  const { page } = await person();
  const tabTo = async (locator, most = 15) => {
    for (let i = 0; i < most && !(await locator.evaluate((el) => el === document.activeElement)); i += 1) {
      await page.keyboard.press('Tab');
    }
    await expect(locator).toBeFocused();
  };
  // From the top of the start page: the skip link first, and it skips.
  await page.goto('/');
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.locator('#main')).toBeFocused();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Every coffee counts');
  // On to "Log in", and the login form, with Tab and Enter only.
  await tabTo(page.getByRole('main').getByRole('link', { name: 'Log in' }));
  await page.keyboard.press('Enter');
  const username = page.getByLabel('Username');
  await tabTo(username);
  const outline = await username.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
  await page.keyboard.type(STAFF().username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(STAFF().password);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/staff$/);

  // The counter: Tab to the phone field, type, Enter stamps.
  const phone = page.getByLabel('Card code or phone number');
  await tabTo(phone);
  await page.keyboard.type(customer.phone);
  await page.keyboard.press('Enter');
  await expect(page.locator('.result-balance')).toHaveText('1 stamp on the card');
  expect((await cardOf(customerApi)).balance).toBe(1);
  await customerApi.dispose();
});
