// Renders the server's own OpenAPI document with Swagger UI (vendored in swagger-ui/, loaded
// before this file). A file rather than an inline script, so that the page's CSP can allow
// scripts from 'self' only.
//
// The document is always /openapi.yaml of this origin: `url` is fixed here, and
// `queryConfigEnabled: false` keeps Swagger UI from reading `?url=` or `?configUrl=` out of the
// address, which would let a link render someone else's document on our origin. "Try it out"
// sends same-origin requests (the document's server is `/`), so the browser adds the session
// cookie itself: log in through the app, then send requests from here as yourself.
window.ui = window.SwaggerUIBundle({
  url: '/openapi.yaml',
  dom_id: '#swagger-ui',
  queryConfigEnabled: false,
  // No validator badge: it would load an image from validator.swagger.io.
  validatorUrl: null,
  withCredentials: true,
  deepLinking: true,
  displayOperationId: true,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
});
