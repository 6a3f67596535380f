// A poster for the counter: the signup link as a QR code, printed on one A4 page (styles.css
// has the print rules: only the poster is printed, at the size of the page).
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { qrCode } from '../qr.js';

export function mountPoster(root) {
  const link = `${location.origin}/signup`;
  const print = h('button', { type: 'button', class: 'button primary', id: 'poster-print' }, t('poster.print'));
  print.addEventListener('click', () => window.print());
  root.append(
    h('div', { class: 'poster-actions' }, h('p', { class: 'hint' }, t('poster.hint')), print),
    h(
      'article',
      { class: 'poster', 'aria-labelledby': 'poster-title' },
      h('p', { class: 'poster-brand' }, 'stampcard'),
      h('h2', { id: 'poster-title', class: 'poster-title' }, t('poster.title')),
      h('p', { class: 'poster-lead' }, t('poster.lead')),
      qrCode(link, { label: t('poster.qrLabel', { link }), className: 'qr poster-qr' }),
      h('p', { class: 'poster-link' }, link),
      h('ol', { class: 'poster-steps' }, h('li', {}, t('poster.step1')), h('li', {}, t('poster.step2')), h('li', {}, t('poster.step3'))),
    ),
  );
}
