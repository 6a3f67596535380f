// The app's client-side routes. The server answers exactly these paths with index.html
// (web/routes.json holds the same list for it; tests/browser checks that the two agree).
// Anything else is "page not found".
export const ROUTE_PATHS = Object.freeze([
  '/',
  '/login',
  '/signup',
  '/forgot-password',
  '/reset-password',
  '/verify-email',
  '/card',
  '/history',
  '/sessions',
  '/profile',
  '/staff',
  '/admin',
]);

export function isRoute(path) {
  return ROUTE_PATHS.includes(path);
}
