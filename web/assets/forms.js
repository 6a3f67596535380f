// Form building blocks: labelled fields with a place for the server's message next to each,
// a form-level alert, and turning an ApiError (problem+json) into those messages.
import { ApiError, NetworkError } from './api.js';
import { h, uid, focus } from './dom.js';
import { formatTime, t } from './i18n.js';

/**
 * A labelled input. `name` is the API field it maps to, so a 422 `errors[].field` lands here.
 * Extra input attributes go in `attrs` (autocomplete, inputmode, min, max...).
 */
export function field({ name, label, type = 'text', value = '', hint, attrs = {} }) {
  const id = uid(`f-${name}`);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const input = h('input', {
    id,
    name,
    type,
    value: value ?? '',
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
    ...attrs,
  });
  return h(
    'div',
    { class: 'field', dataset: { field: name } },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    input,
    h('p', { class: 'field-error', id: errorId }),
  );
}

export function checkbox({ name, label, checked = false }) {
  const id = uid(`f-${name}`);
  return h(
    'div',
    { class: 'field field-check', dataset: { field: name } },
    h('input', { id, name, type: 'checkbox', checked }),
    h('label', { for: id }, label),
  );
}

/** The form-level message area (announced when it changes; empty takes no space). */
export function formAlert() {
  return h('div', { class: 'form-alert', role: 'alert' });
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const alert = form.querySelector('.form-alert');
  if (alert) {
    alert.replaceChildren();
    alert.classList.remove('is-success');
  }
}

/**
 * When to try again, from a Retry-After in seconds: "Try again in 5 s.", or for a longer wait
 * the clock time ("Try again at 21:40 (in 60 min).").
 */
export function waitText(seconds) {
  if (seconds === null || seconds === undefined || !(seconds > 0)) return '';
  if (seconds < 120) return t('error.retryAfter', { seconds });
  const at = new Date(Date.now() + seconds * 1000).toISOString();
  return t('error.retryAt', { time: formatTime(at), minutes: Math.ceil(seconds / 60) });
}

/** The text to show for any failure: the server's `detail`, or our own for no answer. */
export function describeError(error) {
  if (error instanceof NetworkError) return t('error.network');
  if (error instanceof ApiError) {
    let text = error.problem.detail || error.problem.title || t('error.unexpected');
    if (error.retryAfter !== null && error.retryAfter > 0) {
      text += ` ${waitText(error.retryAfter)}`;
    }
    return text;
  }
  console.error(error);
  return t('error.unexpected');
}

/**
 * Shows an error on a form: each `errors[]` entry next to its field (fieldMap renames API fields
 * to the form's), the `detail` (plus any message without a field here) at the top; focuses the
 * first field in error, else the alert.
 */
export function showError(form, error, fieldMap = {}) {
  clearErrors(form);
  const alert = form.querySelector('.form-alert');
  const leftover = [];
  let first = null;
  if (error instanceof ApiError) {
    for (const item of error.fieldErrors) {
      const name = fieldMap[item.field] ?? item.field;
      const wrapper = form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
      const input = wrapper?.querySelector('input, select, textarea');
      if (!wrapper || !input) {
        leftover.push(item.message);
        continue;
      }
      const slot = wrapper.querySelector('.field-error');
      slot.textContent = slot.textContent ? `${slot.textContent} ${item.message}` : item.message;
      input.setAttribute('aria-invalid', 'true');
      first ??= input;
    }
  }
  if (alert) {
    alert.append(h('p', {}, describeError(error)));
    if (leftover.length) alert.append(h('ul', {}, leftover.map((m) => h('li', {}, m))));
  }
  focus(first ?? alert);
}

/** One message of our own at the top of a form (instead of the server's), focused. */
export function showAlert(form, text) {
  clearErrors(form);
  const alert = form.querySelector('.form-alert');
  if (!alert) return;
  alert.append(h('p', {}, text));
  focus(alert);
}

/** One message of our own next to a field (a check made before asking the server), focused. */
export function showFieldError(form, name, text) {
  clearErrors(form);
  const wrapper = form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
  const input = wrapper?.querySelector('input, select, textarea');
  if (!input) return showAlert(form, text);
  wrapper.querySelector('.field-error').textContent = text;
  input.setAttribute('aria-invalid', 'true');
  focus(input);
}

export function showSuccess(form, text) {
  clearErrors(form);
  const alert = form.querySelector('.form-alert');
  if (!alert) return;
  alert.classList.add('is-success');
  alert.append(h('p', {}, text));
}

/**
 * Runs fn with the button disabled (so a double tap submits once) and marked busy; gives the
 * focus back to the button if disabling it dropped the focus.
 */
export async function whileBusy(button, fn) {
  if (button.disabled) return undefined;
  const hadFocus = document.activeElement === button;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (hadFocus && (document.activeElement === document.body || !document.activeElement)) {
      button.focus();
    }
  }
}

/** Values of named inputs as an object (checkboxes as booleans, text but passwords trimmed). */
export function values(form) {
  const out = {};
  for (const input of form.querySelectorAll('input[name], select[name]')) {
    if (input.type === 'checkbox') out[input.name] = input.checked;
    else if (input.type === 'password') out[input.name] = input.value; // spaces count
    else out[input.name] = input.value.trim();
  }
  return out;
}
