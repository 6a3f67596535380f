// Any path that is not one of the app's routes (the server answers those with 404).
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { heading } from './common.js';

export const titleKey = 'notFound.title';

export function mount(root) {
  root.append(
    heading(t('notFound.heading'), t('notFound.lead')),
    h('p', {}, h('a', { class: 'button primary', href: '/' }, t('notFound.home'))),
  );
}
