// Runs before the first paint (a classic, blocking script in <head>): applies the theme and
// language of the stampcard_prefs cookie (`language=ko&theme=dark`, not HttpOnly) so that a
// dark-theme user never sees a flash of the light page. The app module takes over afterwards.
(function () {
  var match = document.cookie.match(/(?:^|;\s*)stampcard_prefs="?([^";]*)"?/);
  if (!match) return;
  var value = match[1];
  var theme = /(?:^|&)theme=(light|dark)(?:&|$)/.exec(value);
  var language = /(?:^|&)language=(en|ko)(?:&|$)/.exec(value);
  if (theme) document.documentElement.setAttribute('data-theme', theme[1]);
  if (language) document.documentElement.setAttribute('lang', language[1]);
})();
