// Form building blocks: labelled fields with a place for a message next to each, a form-level
// alert, and turning an ApiError (problem+json) into those messages (the words: errors.js).
import { ApiError } from './api.js';
import { h, uid, focus } from './dom.js';
import { describeError, fieldMessage } from './errors.js';
import { tn } from './i18n.js';

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
 * Shows invalid fields: each message next to its field (or, for a field this form does not
 * have, in a list at the top), and at the top the failure's words (`summary`, by default how
 * many fields to check); focuses the first field in error, else the alert.
 */
function showFieldErrors(form, items, summary) {
  clearErrors(form);
  const alert = form.querySelector('.form-alert');
  const leftover = [];
  const marked = new Set();
  let first = null;
  for (const { name, message } of items) {
    const wrapper = form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
    const input = wrapper?.querySelector('input, select, textarea');
    if (!wrapper || !input) {
      leftover.push(message);
      continue;
    }
    const slot = wrapper.querySelector('.field-error');
    slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    input.setAttribute('aria-invalid', 'true');
    marked.add(name);
    first ??= input;
  }
  if (alert) {
    alert.append(h('p', {}, summary ?? tn('form.fixFields', marked.size)));
    if (leftover.length) alert.append(h('ul', {}, leftover.map((m) => h('li', {}, m))));
  }
  if (first) focusField(first);
  else focus(alert);
}

/**
 * Shows a failed request on a form, in the app's words: each `errors[]` entry next to its
 * field (fieldMap renames API fields to the form's) and at the top how many fields to check;
 * without invalid fields, what happened at the top.
 */
export function showError(form, error, fieldMap = {}) {
  const items = (error instanceof ApiError ? error.fieldErrors : []).map((item) => ({
    name: fieldMap[item.field] ?? item.field,
    message: fieldMessage(item.field, item.code),
  }));
  const placed = items.filter(({ name }) => form.querySelector(`.field[data-field="${CSS.escape(name)}"]`));
  showFieldErrors(form, items, placed.length ? undefined : describeError(error));
}

/**
 * Focuses a field in error and brings the whole field into view: the message under the input,
 * not only the input (on a phone it would stay under the bottom navigation).
 */
function focusField(input) {
  input.focus({ preventScroll: true });
  input.closest('.field')?.scrollIntoView({ block: 'nearest' });
}

/**
 * Before asking the server: every required field that is empty gets its own words next to it
 * ("Type a username."). Returns whether all of them are filled in.
 */
export function checkRequired(form) {
  const empty = [...form.querySelectorAll('.field input[required]')].filter((input) => !input.value.trim());
  if (!empty.length) return true;
  showFieldErrors(form, empty.map((input) => ({ name: input.name, message: fieldMessage(input.name, 'required') })));
  return false;
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
  focusField(input);
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
      button.focus({ preventScroll: true }); // not scrolled back: the answer may have been brought into view
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
