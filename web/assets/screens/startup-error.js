// The server could not be asked who is logged in (offline, or it is down): say so, offer a retry.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { heading } from './common.js';

export const titleKey = 'startup.title';

export function mount(root, ctx) {
  root.append(
    heading(t('startup.heading'), t('startup.lead')),
    h('p', {}, h('button', { type: 'button', class: 'button primary', onclick: () => ctx.rerender() }, t('common.retry'))),
  );
}
