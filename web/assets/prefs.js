// Language and theme: the stampcard_prefs cookie, read and written through the API
// (GET/PUT /api/v1/preferences). The cookie is for these non-sensitive settings only.
import { api } from './api.js';
import { emit } from './events.js';
import { setLanguage } from './i18n.js';

const LANGUAGES = ['en', 'ko'];
const THEMES = ['light', 'dark'];

let current = { language: 'en', theme: 'light' };

/** `language=ko&theme=dark` from document.cookie; missing or unknown parts are left out. */
export function fromCookie(cookieText = document.cookie) {
  const match = /(?:^|;\s*)stampcard_prefs="?([^";]*)"?/.exec(cookieText);
  const prefs = {};
  if (!match) return prefs;
  for (const pair of match[1].split('&')) {
    const [key, value] = pair.split('=');
    if (key === 'language' && LANGUAGES.includes(value)) prefs.language = value;
    if (key === 'theme' && THEMES.includes(value)) prefs.theme = value;
  }
  return prefs;
}

function apply(prefs) {
  current = {
    language: LANGUAGES.includes(prefs.language) ? prefs.language : current.language,
    theme: THEMES.includes(prefs.theme) ? prefs.theme : current.theme,
  };
  const root = document.documentElement;
  root.lang = current.language;
  root.dataset.theme = current.theme;
  setLanguage(current.language);
  emit('prefs', { ...current });
}

export function get() {
  return { ...current };
}

const systemScheme = window.matchMedia?.('(prefers-color-scheme: dark)');
const systemTheme = () => (systemScheme?.matches ? 'dark' : 'light');

/** Whether a theme was chosen (it is in the cookie); until then the device's is followed. */
function themeChosen() {
  return 'theme' in fromCookie();
}

/** Start-up: the cookie at once, then the server's answer (which also covers a first visit
 * without the cookie: it follows Accept-Language). A first visit takes the device's theme
 * (prefers-color-scheme), and follows it when it changes, until the person picks one. */
export async function load() {
  apply({ ...current, theme: systemTheme(), ...fromCookie() });
  try {
    const answer = await api.get('/api/v1/preferences');
    apply(themeChosen() ? answer : { ...answer, theme: current.theme });
  } catch {
    // Offline or server trouble: keep what the cookie said.
  }
  systemScheme?.addEventListener?.('change', () => {
    if (!themeChosen()) apply({ ...current, theme: systemTheme() });
  });
}

/** Applies at once, then stores the choice in the cookie through the API. */
export async function save(change) {
  apply({ ...current, ...change });
  await api.put('/api/v1/preferences', { ...current });
}
