// Who is logged in, as the server says (GET /api/v1/sessions/current). The app never touches
// the session cookie itself.
import { api, ApiError } from './api.js';

let current = null; // {session, user} or null
let endedBy = null; // why the last session ended, when the server said so: 'account_deactivated'

export function user() {
  return current?.user ?? null;
}

/** Asks the server. 401 means nobody; other failures propagate (offline at start-up...). */
export async function load() {
  try {
    current = await api.get('/api/v1/sessions/current', { quiet401: true });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
    ended(error);
  }
  return user();
}

/**
 * A 401 ended the session: nobody is logged in now. Its problem names a `reason` when an admin
 * deactivated the account (the login screen then says so); any other 401 names none.
 */
export function ended(error) {
  current = null;
  endedBy = error?.problem?.reason === 'account_deactivated' ? 'account_deactivated' : null;
}

/** 'account_deactivated' after a 401 that said so, until the next login; else null. */
export function endedBecause() {
  return endedBy;
}

export function set(data) {
  current = data ? { session: data.session ?? current?.session ?? null, user: data.user } : null;
  if (current) endedBy = null;
}

export function setUser(updated) {
  if (current) current = { ...current, user: updated };
}

export function clear() {
  current = null;
  endedBy = null;
}

export function isStaff(u = user()) {
  return u?.role === 'staff' || u?.role === 'admin';
}

/** Where a person lands: customers on their card, staff and admins at the counter. */
export function homeFor(u = user()) {
  if (!u) return '/';
  return isStaff(u) ? '/staff' : '/card';
}
