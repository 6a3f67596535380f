// Who is logged in, as the server says (GET /api/v1/sessions/current). The app never touches
// the session cookie itself.
import { api, ApiError } from './api.js';

let current = null; // {session, user} or null

export function user() {
  return current?.user ?? null;
}

/** Asks the server. 401 means nobody; other failures propagate (offline at start-up...). */
export async function load() {
  try {
    current = await api.get('/api/v1/sessions/current', { quiet401: true });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) current = null;
    else throw error;
  }
  return user();
}

export function set(data) {
  current = data ? { session: data.session ?? current?.session ?? null, user: data.user } : null;
}

export function setUser(updated) {
  if (current) current = { ...current, user: updated };
}

export function clear() {
  current = null;
}

export function isStaff(u = user()) {
  return u?.role === 'staff' || u?.role === 'admin';
}

/** Where a person lands: customers on their card, staff and admins at the counter. */
export function homeFor(u = user()) {
  if (!u) return '/';
  return isStaff(u) ? '/staff' : '/card';
}
