// A logged-in person on a screen their role does not open (a customer at /staff...).
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { homeFor } from '../session.js';
import { heading } from './common.js';

export const titleKey = 'forbidden.title';

export function mount(root, ctx) {
  root.append(
    heading(t('forbidden.heading'), t('forbidden.lead')),
    h('p', {}, h('a', { class: 'button primary', href: homeFor(ctx.user) }, t('forbidden.home'))),
  );
}
