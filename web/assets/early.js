// Runs before the first paint (a classic, blocking script in <head>): applies the theme and
// language of the stampcard_prefs cookie (`language=ko&theme=dark`, not HttpOnly) so that a
// dark-theme user never sees a flash of the light page. Without a theme chosen yet (a first
// visit), the device's: prefers-color-scheme. The app module takes over afterwards.
(function () {
  var match = document.cookie.match(/(?:^|;\s*)stampcard_prefs="?([^";]*)"?/);
  var value = match ? match[1] : '';
  var theme = /(?:^|&)theme=(light|dark)(?:&|$)/.exec(value);
  var language = /(?:^|&)language=(en|ko)(?:&|$)/.exec(value);
  var dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.setAttribute('data-theme', theme ? theme[1] : dark ? 'dark' : 'light');
  if (language) document.documentElement.setAttribute('lang', language[1]);
})();
