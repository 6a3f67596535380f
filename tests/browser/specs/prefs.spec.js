// Language and theme live in the stampcard_prefs cookie (via /api/v1/preferences): they survive
// a reload, apply before the app's script runs (no flash), and the server's messages follow them.
import { expect, h1, newCustomer, signUpByApi, test } from '../lib.js';

test('Korean and the dark theme survive a reload', async ({ person }) => {
  const { page, context } = await person();
  await page.goto('/login');
  await expect(h1(page)).toHaveText('Log in');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');

  await page.getByRole('button', { name: '한국어' }).click();
  await expect(h1(page)).toHaveText('로그인');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  const theme = page.getByRole('button', { name: '어두운 테마' });
  await expect(theme).toHaveAttribute('aria-pressed', 'false');
  await theme.click();
  await expect(theme).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(21, 16, 12)');

  const prefs = (await context.cookies()).find((c) => c.name === 'stampcard_prefs');
  expect(prefs.value.replaceAll('"', '')).toBe('language=ko&theme=dark');
  expect(prefs.httpOnly).toBe(false);

  await page.reload();
  await expect(h1(page)).toHaveText('로그인');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.getByRole('navigation').getByRole('link')).toHaveText(['로그인', '가입하기']);

  // The server's own messages are Korean too.
  const customer = newCustomer('korean');
  (await signUpByApi(customer)).dispose();
  await page.getByLabel('사용자 이름').fill(customer.username);
  await page.getByLabel('비밀번호').fill('wrong password here');
  await page.getByRole('button', { name: '로그인' }).click();
  await expect(page.locator('form .form-alert')).toHaveText(/[\uac00-\ud7af]/);

  // And back to English and light.
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('button', { name: 'Dark theme' }).click();
  await page.reload();
  await expect(h1(page)).toHaveText('Log in');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
});

test('the theme is applied before the app runs (no flash of the light page)', async ({ person }) => {
  const { page } = await person();
  await page.goto('/');
  await page.request.put('/api/v1/preferences', { data: { language: 'ko', theme: 'dark' } });
  // Without the app module at all, the early script alone has set theme and language.
  await page.route('**/app.js', (route) => route.abort());
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(21, 16, 12)');
});

test('a first visit follows the browser language (Accept-Language)', async ({ person }) => {
  const { page } = await person({ locale: 'ko-KR' });
  await page.goto('/');
  await expect(h1(page)).toHaveText('한 잔 한 잔이 모입니다');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
});

test('a first visit follows the device theme (prefers-color-scheme) until a theme is picked', async ({ person }) => {
  const { page } = await person({ colorScheme: 'dark' });
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.getByRole('button', { name: 'Dark theme' })).toHaveAttribute('aria-pressed', 'true');
  // The device changes its scheme: the page follows, as nothing was picked.
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  // Picked: light stays, whatever the device says, across a reload.
  await page.getByRole('button', { name: 'Dark theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect(page.getByRole('button', { name: 'Dark theme' })).toHaveAttribute('aria-pressed', 'false');
});
