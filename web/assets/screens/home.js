// "/" for someone not logged in: what this is, and the way in. (Logged-in people are sent on
// to their card or the counter before this shows.)
import { cups } from '../cups.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { heading } from './common.js';

export const titleKey = 'home.title';

export function mount(root) {
  const sample = { balance: 7, stamps_per_reward: 10, rewards_available: 0 };
  root.append(
    h(
      'div',
      { class: 'home' },
      heading(t('home.heading'), t('home.lead')),
      h('div', { class: 'panel card-panel home-sample', 'aria-hidden': 'true' }, cups(sample)),
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button primary', href: '/signup' }, t('home.signup')),
        h('a', { class: 'button secondary', href: '/login' }, t('home.login')),
      ),
      h('ol', { class: 'steps' },
        h('li', {}, t('home.step1')),
        h('li', {}, t('home.step2')),
        h('li', {}, t('home.step3')),
      ),
    ),
  );
}
