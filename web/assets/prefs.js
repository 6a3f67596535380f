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

/** Start-up: the cookie at once, then the server's answer (which also covers a first visit
 * without the cookie: it follows Accept-Language). */
export async function load() {
  apply({ ...current, ...fromCookie() });
  try {
    apply(await api.get('/api/v1/preferences'));
  } catch {
    // Offline or server trouble: keep what the cookie said.
  }
}

/** Applies at once, then stores the choice in the cookie through the API. */
export async function save(change) {
  apply({ ...current, ...change });
  await api.put('/api/v1/preferences', { ...current });
}
