// The counter of v1.2 (issue 19): the customer's card shows a QR code of its card code, which
// decodes to a code that stamps; the card follows the stream; the counter stamps by a typed
// card code and Enter (a handheld scanner), masks the phone, empties and focuses the field after
// each stamp, undoes a stamp; an admin voids any event with a reason; and the two ways to stamp
// twice are closed: a retry after a lost answer keeps its Idempotency-Key through "Try again",
// the language switch and a reload, and an answer that arrives with the form still filled leaves
// nothing a late tap could send again.
import { ADMIN, apiAs, cardOf, expect, logIn, newCustomer, readQr, signUpByApi, STAFF, stampByApi, test } from '../lib.js';

const FIELD = 'Card code or phone number';

async function counterFor(person, who = STAFF(), options = {}) {
  const barista = await person(options);
  await logIn(barista.page, who);
  await expect(barista.page).toHaveURL(/\/staff$/);
  const stampKeys = [];
  barista.page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/v1/stamps') {
      stampKeys.push(request.headers()['idempotency-key']);
    }
  });
  return { page: barista.page, stampKeys };
}

async function customerOnCard(person, customer) {
  const { page } = await person();
  await logIn(page, customer);
  await expect(page).toHaveURL(/\/card$/);
  await expect(page.locator('#card-status')).toBeVisible();
  return page;
}

/** Loses the answer of the next stamp: it reaches the server, the browser sees a reset. */
async function loseNextStampAnswer(page) {
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
}

test("the card's QR code decodes to its card code, which stamps; the card shows it within 2 s", async ({ person }) => {
  const customer = newCustomer('qr');
  const customerApi = await signUpByApi(customer);
  const card = await customerOnCard(person, customer);
  const qr = card.locator('.code-panel svg.qr');
  await expect(qr).toBeVisible();
  const digits = (await card.locator('#card-code').textContent()).replace(/\s/g, '');
  expect(digits).toMatch(/^\d{8}$/);
  const code = await readQr(qr);
  expect(code).toBe(digits);

  // A handheld scanner types the digits and Enter into the focused field.
  const { page } = await counterFor(person);
  await page.getByLabel(FIELD).focus();
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
  await expect(page.locator('.result-what')).toHaveText('1 stamp added');
  // The phone is masked on the counter's screen (the queue can see it), nowhere in full.
  const masked = `${customer.phone.slice(0, 4)}****-${customer.phone.slice(9)}`;
  await expect(page.locator('#result h2')).toHaveText(`Customer ${masked}`);
  await expect(page.locator('.recent li').first()).toContainText(masked);
  await expect(page.locator('#main')).not.toContainText(customer.phone);
  // Ready for the next customer: the field empty and focused.
  await expect(page.getByLabel(FIELD)).toHaveValue('');
  await expect(page.getByLabel(FIELD)).toBeFocused();

  // The customer's card, open in another browser, follows without a reload.
  const started = Date.now();
  await expect(card.locator('#card-status')).toHaveText(/^1 of \d+ stamps$/, { timeout: 2_000 });
  expect(Date.now() - started).toBeLessThan(2_000);
  expect((await cardOf(customerApi)).balance).toBe(1);
  await customerApi.dispose();
});

test('the card code is renewed before it expires, and a redemption by it shows a new one', async ({ person }) => {
  const customer = newCustomer('renew');
  const customerApi = await signUpByApi(customer);
  const staff = await apiAs(STAFF());
  const perReward = (await cardOf(customerApi)).stamps_per_reward;
  for (let left = perReward; left > 0; left -= Math.min(left, 10)) await stampByApi(staff, customer.phone, Math.min(left, 10));
  const requests = [];
  const { page } = await person();
  page.on('request', (r) => r.url().endsWith('/api/v1/stamps/card-code') && requests.push(r));
  // The clock runs 100 s on: a code made now (valid 120 s) is renewed 20 s before its end.
  await page.clock.install();
  await logIn(page, customer);
  await expect(page.locator('#card-code')).toHaveText(/^\d{4} \d{4}$/);
  const first = await page.locator('#card-code').textContent();
  expect(requests).toHaveLength(1);
  await page.clock.runFor(101_000);
  await expect.poll(() => requests.length).toBe(2);
  await expect(page.locator('#card-code')).not.toHaveText(first);

  // Redeemed at the counter with the code on the screen: the code is used up, a new one shows.
  const code = (await page.locator('#card-code').textContent()).replace(' ', '');
  const redeemed = await staff.post('/api/v1/stamps/redemptions', { data: { card_code: code } });
  expect(redeemed.status()).toBe(201);
  await expect(page.locator('#card-status')).toHaveText(`0 of ${perReward} stamps`);
  await expect.poll(() => requests.length).toBe(3);
  await expect(page.locator('#card-code')).not.toHaveText(`${code.slice(0, 4)} ${code.slice(4)}`);
  await staff.dispose();
  await customerApi.dispose();
});

test('undo takes a stamp back; an unknown card code is said once, next to the field', async ({ person }) => {
  const customer = newCustomer('undo');
  const customerApi = await signUpByApi(customer);
  await stampByApi(await apiAs(STAFF()), customer.phone, 2);
  const { page } = await counterFor(person);

  await page.getByLabel(FIELD).fill(customer.phone);
  await page.getByLabel('Stamps', { exact: true }).fill('3');
  await page.getByRole('button', { name: 'Stamp ×3' }).click();
  await expect(page.locator('.result-balance')).toHaveText('5 stamps on the card');
  expect((await cardOf(customerApi)).balance).toBe(5);

  await page.getByRole('button', { name: 'Undo: 3 stamps added' }).click();
  await expect(page.locator('.recent li').first()).toContainText('Undone');
  await expect(page.getByRole('button', { name: 'Undo: 3 stamps added' })).toHaveCount(0);
  await expect(page.locator('.result-balance')).toHaveText('2 stamps on the card');
  expect(await cardOf(customerApi)).toMatchObject({ balance: 2, total_earned: 2 });
  const events = (await (await customerApi.get('/api/v1/stamps/events')).json()).items;
  expect(events[0]).toMatchObject({ kind: 'voided', count: 3 });
  expect(events[1]).toMatchObject({ kind: 'earned', count: 3, voided: true });

  await page.getByLabel(FIELD).fill('0000 0000');
  await page.getByRole('button', { name: 'Stamp', exact: true }).click();
  const error = page.locator('[data-field="customer"] .field-error');
  await expect(error).toHaveText(/^This card code is unknown or expired/);
  await expect(page.locator('#stamp-form .form-alert')).toBeEmpty();
  await expect(page.getByText(/This card code is unknown or expired/)).toHaveCount(1);
  await customerApi.dispose();
});

test('an admin voids any event of a card with a reason', async ({ person }) => {
  const customer = newCustomer('void');
  const customerApi = await signUpByApi(customer);
  await stampByApi(await apiAs(STAFF()), customer.phone, 4);
  const { page } = await counterFor(person, ADMIN(), { viewport: { width: 1280, height: 800 } });
  await page.getByLabel(FIELD).fill(customer.phone);
  await page.getByRole('button', { name: 'Look up the card' }).click();
  const history = page.locator('.card-history');
  await expect(history.locator('li')).toHaveCount(1);
  await expect(history).toContainText(`by ${STAFF().username}`);
  await history.getByRole('button', { name: /^Void 4 stamps of / }).click();
  const dialog = page.getByRole('dialog', { name: 'Void this event?' });
  await expect(dialog.getByLabel('Reason (optional)')).toBeFocused();
  await dialog.getByLabel('Reason (optional)').fill('stamped the wrong card');
  await dialog.getByRole('button', { name: 'Void', exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator('.result-balance')).toHaveText('0 stamps on the card');
  await expect(history.locator('li')).toHaveCount(2);
  await expect(history.locator('li').first()).toContainText('reason: stamped the wrong card');
  await expect(history.locator('li').nth(1)).toContainText('Voided');
  expect((await cardOf(customerApi)).balance).toBe(0);
  await customerApi.dispose();
});

test('a lost answer keeps its key through "Try again", the language switch and a reload: one stamp', async ({ person }) => {
  const customer = newCustomer('survive');
  const customerApi = await signUpByApi(customer);
  const { page, stampKeys } = await counterFor(person);
  await loseNextStampAnswer(page);
  await page.getByLabel(FIELD).fill(customer.phone);
  await page.getByLabel('Stamps', { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Stamp ×2' }).click();
  await expect(page.locator('.retry-note')).toHaveText('Press the button again to retry: it will not count twice.');
  expect((await cardOf(customerApi)).balance).toBe(2);

  // The offline banner's "Try again" rebuilds the screen: the form comes back as it was sent.
  await expect(page.locator('#net')).toContainText('You are offline');
  await page.locator('#net').getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByLabel(FIELD)).toHaveValue(customer.phone);
  await expect(page.getByLabel('Stamps', { exact: true })).toHaveValue('2');
  await expect(page.locator('.retry-note')).not.toBeEmpty();
  // So does the language switch, and a reload.
  await page.getByRole('button', { name: '한국어' }).click();
  await expect(page.getByLabel('카드 코드 또는 전화번호')).toHaveValue(customer.phone);
  await page.getByRole('button', { name: 'English' }).click();
  await page.reload();
  await expect(page.getByLabel(FIELD)).toHaveValue(customer.phone);

  const replay = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/stamps'));
  await page.getByRole('button', { name: 'Stamp ×2' }).click();
  expect((await replay).headers()['idempotent-replayed']).toBe('true');
  await expect(page.locator('.result-balance')).toHaveText('2 stamps on the card');
  expect(stampKeys).toHaveLength(2);
  expect(stampKeys[1]).toBe(stampKeys[0]);
  expect((await cardOf(customerApi)).balance).toBe(2);
  await customerApi.dispose();
});

test('a tap that comes after the answer finds an empty form: no second stamp with a new key', async ({ person }) => {
  const customer = newCustomer('late');
  const customerApi = await signUpByApi(customer);
  const { page, stampKeys } = await counterFor(person);
  // A slow server: the answer arrives while the finger is on its way to a second tap.
  await page.route('**/api/v1/stamps', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    return route.continue();
  });
  await page.getByLabel(FIELD).fill(customer.phone);
  const stamp = page.locator('#stamp');
  await stamp.click();
  await expect(page.locator('.result-what')).toHaveText('1 stamp added');
  await stamp.click(); // the late second tap
  await expect(page.locator('[data-field="customer"] .field-error')).not.toBeEmpty();
  await page.waitForTimeout(600);
  expect(stampKeys).toHaveLength(1);
  expect((await cardOf(customerApi)).balance).toBe(1);
  await customerApi.dispose();
});

test('on a 390 px phone the redeem button is in view, clear of the tab bar', async ({ person }) => {
  const customer = newCustomer('reach');
  const customerApi = await signUpByApi(customer);
  const perReward = (await cardOf(customerApi)).stamps_per_reward;
  if (perReward > 10) await stampByApi(await apiAs(STAFF()), customer.phone, perReward - 10);
  const { page } = await counterFor(person, STAFF(), { viewport: { width: 390, height: 844 } });
  await page.getByLabel(FIELD).fill(customer.phone);
  await page.getByLabel('Stamps', { exact: true }).fill(String(Math.min(perReward, 10)));
  await page.getByRole('button', { name: /^Stamp/ }).click();
  const redeem = page.getByRole('button', { name: 'Redeem a free coffee' });
  await expect(redeem).toBeInViewport({ ratio: 1 });
  const button = await redeem.boundingBox();
  const nav = await page.locator('#app-nav').boundingBox();
  expect(button.y + button.height).toBeLessThanOrEqual(nav.y);
  await redeem.click();
  await expect(page.locator('.result-what')).toHaveText('Free coffee redeemed');
  await customerApi.dispose();
});

test('the Korean counter counts stamps as Korean does', async ({ person }) => {
  const customer = newCustomer('kocount');
  const customerApi = await signUpByApi(customer);
  const { page } = await counterFor(person);
  await page.getByRole('button', { name: '한국어' }).click();
  await page.getByLabel('카드 코드 또는 전화번호').fill(customer.phone);
  await page.getByLabel('스탬프 수').fill('3');
  await expect(page.locator('#stamp')).toHaveText('스탬프 3개 찍기');
  await page.locator('#stamp').click();
  await expect(page.locator('.result-what')).toHaveText('스탬프 3개 적립');
  await expect(page.locator('.result-balance')).toHaveText('카드에 스탬프 3개');
  await expect(page.locator('#main')).not.toContainText('개의');
  await page.getByRole('button', { name: 'English' }).click();
  await customerApi.dispose();
});
