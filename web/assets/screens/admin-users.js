// Admins: find users by name or phone prefix, change a role, deactivate or reactivate.
// A role is one press on the role wanted (the pressed one is the current role); deactivating
// asks first (it logs that person out everywhere), and is not offered on your own row.
// A refusal (409 last_admin: the change would leave no active admin) is shown on the user's row.
// Every change needs a recent password: asked for in place when the server wants it (reauth.js).
import { api, isAbort } from '../api.js';
import { focus, h } from '../dom.js';
import { describeError } from '../errors.js';
import { whileBusy } from '../forms.js';
import { formatPhone, t } from '../i18n.js';
import { ProofDeclined, withProof } from '../reauth.js';
import * as session from '../session.js';
import { loadFailed, moreButton, skeleton } from './common.js';

const ROLES = ['customer', 'staff', 'admin'];

export function mountUsers(root, ctx) {
  const query = h('input', {
    id: 'user-query',
    name: 'q',
    type: 'search',
    autocomplete: 'off',
    autocapitalize: 'none',
    spellcheck: 'false',
    'aria-describedby': 'user-query-hint',
  });
  const searchButton = h('button', { type: 'submit', class: 'button primary' }, t('admin.search'));
  const form = h(
    'form',
    { class: 'panel form search', role: 'search' },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'user-query' }, t('admin.query')),
      h('p', { class: 'hint', id: 'user-query-hint' }, t('admin.queryHint')),
      h('div', { class: 'search-row' }, query, searchButton),
    ),
  );
  const list = h('ul', { class: 'users' });
  const footer = h('div', { class: 'list-foot' });
  const body = h('div', { class: 'panel list-panel' }, skeleton(4));
  const confirm = confirmDeactivation();
  root.append(form, body, confirm.element);

  function row(user) {
    const me = session.user()?.id === user.id;
    const rowAlert = h('div', { class: 'form-alert', role: 'alert' });
    const roleButtons = ROLES.map((role) => {
      const button = h(
        'button',
        { type: 'button', class: 'role-option', 'aria-pressed': String(role === user.role), dataset: { role } },
        t(`role.${role}`),
      );
      button.setAttribute('aria-label', t('admin.makeRole', { username: user.username, role: t(`role.${role}`) }));
      button.addEventListener('click', () => {
        if (role === user.role) return;
        whileBusy(button, () => change({ role }, `[data-role="${role}"]`));
      });
      return button;
    });
    const roles = h(
      'div',
      { class: 'role-options', role: 'group', 'aria-label': t('admin.roleFor', { username: user.username }) },
      roleButtons,
    );
    let toggle = null;
    if (!me) {
      toggle = h('button', { type: 'button', class: ['button', 'small', 'toggle', user.is_active ? 'danger-outline' : 'secondary'] },
        user.is_active ? t('admin.deactivate') : t('admin.reactivate'));
      toggle.setAttribute(
        'aria-label',
        t(user.is_active ? 'admin.deactivateUser' : 'admin.reactivateUser', { username: user.username }),
      );
      toggle.addEventListener('click', async () => {
        if (user.is_active && !(await confirm.ask(user))) return toggle.focus();
        whileBusy(toggle, () => change({ is_active: !user.is_active }, '.toggle'));
      });
    }

    async function change(patch, focusAfter) {
      rowAlert.replaceChildren();
      rowAlert.className = 'form-alert';
      try {
        const path = `/api/v1/users/${encodeURIComponent(user.id)}`;
        const updated = await withProof(() => api.patch(path, patch), { signal: ctx.signal });
        const fresh = row(updated);
        li.replaceWith(fresh);
        const alert = fresh.querySelector('.form-alert');
        alert.classList.add('is-success');
        alert.append(h('p', {}, t('admin.saved', { username: updated.username })));
        focus(fresh.querySelector(focusAfter) ?? fresh.querySelector('.role-option'));
        if (me) session.setUser(updated);
      } catch (error) {
        if (error.status === 401 || isAbort(error)) return;
        // Cancelled: nothing changed; the row stays as it was, to press again.
        if (error instanceof ProofDeclined) return rowAlert.append(h('p', {}, t('reauth.notChanged')));
        rowAlert.append(h('p', {}, describeError(error)));
      }
    }

    const li = h(
      'li',
      { class: ['user', !user.is_active && 'is-inactive'], dataset: { username: user.username } },
      h(
        'div',
        { class: 'user-text' },
        h('strong', {}, user.username, me ? h('span', { class: 'badge' }, t('admin.you')) : null),
        h(
          'span',
          { class: 'user-meta' },
          [formatPhone(user.phone), user.email].filter(Boolean).join(' · ') || t('admin.noContact'),
        ),
        h('span', { class: ['status', user.is_active ? 'is-active' : 'is-inactive'] },
          user.is_active ? t('admin.active') : t('admin.inactive')),
      ),
      h('div', { class: 'user-controls' }, roles, toggle),
      rowAlert,
    );
    return li;
  }

  let searchToken = 0;
  async function load(q, cursor) {
    const token = cursor ? searchToken : ++searchToken;
    // A new search: the rows on screen are stale until it answers; nobody acts on them meanwhile.
    if (!cursor) {
      body.classList.add('is-loading');
      body.setAttribute('aria-busy', 'true');
    }
    try {
      const page = await api.get('/api/v1/users', { query: { q, cursor, limit: 20 }, signal: ctx.signal });
      if (token !== searchToken) return;
      body.classList.remove('is-loading');
      body.removeAttribute('aria-busy');
      if (!cursor) {
        list.replaceChildren();
        body.replaceChildren(page.items.length ? list : h('p', { class: 'empty' }, t('admin.noneFound')), footer);
      }
      const before = list.children.length;
      list.append(...page.items.map(row));
      footer.replaceChildren();
      if (page.next_cursor) {
        const more = moreButton(async () => {
          more.disabled = true;
          await load(q, page.next_cursor);
          focus(list.children[before + page.items.length]?.querySelector('.role-option'));
        });
        footer.append(more);
      }
    } catch (error) {
      if (isAbort(error) || error.status === 401) return;
      body.classList.remove('is-loading');
      body.removeAttribute('aria-busy');
      body.replaceChildren(loadFailed(error, () => load(q, cursor)));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(searchButton, () => load(query.value.trim()));
  });
  load('');
}

/** "Deactivate minji?": what it does, Cancel first. Resolves true to go ahead. */
function confirmDeactivation() {
  const text = h('p', { id: 'deactivate-text' });
  const yes = h('button', { type: 'button', class: 'button danger', id: 'deactivate-confirm' }, t('admin.deactivate'));
  const no = h('button', { type: 'button', class: 'button secondary' }, t('common.cancel'));
  const title = h('h2', { id: 'deactivate-title' });
  const element = h(
    'dialog',
    { class: 'dialog', id: 'deactivate-dialog', 'aria-labelledby': 'deactivate-title', 'aria-describedby': 'deactivate-text' },
    title,
    text,
    h('div', { class: 'dialog-actions' }, no, yes),
  );
  let answer = null;
  element.addEventListener('close', () => answer?.(element.returnValue === 'yes'));
  yes.addEventListener('click', () => element.close('yes'));
  no.addEventListener('click', () => element.close('no'));
  return {
    element,
    ask(user) {
      title.textContent = t('admin.deactivateTitle', { username: user.username });
      text.textContent = t('admin.deactivateText');
      element.returnValue = '';
      element.showModal();
      no.focus();
      return new Promise((resolve) => {
        answer = resolve;
      });
    },
  };
}
