// Pieces that several screens share.
import { h } from '../dom.js';
import { describeError } from '../errors.js';
import { t } from '../i18n.js';

/** The screen's heading (focused after navigation) and an optional lead paragraph. */
export function heading(title, lead) {
  return h(
    'div',
    { class: 'screen-head' },
    h('h1', { tabindex: '-1' }, title),
    lead ? h('p', { class: 'lead' }, lead) : null,
  );
}

/** Grey bars of a given count, standing in for content while it loads (same height). */
export function skeleton(lines = 3, className = '') {
  return h(
    'div',
    { class: ['skeleton', className], 'aria-hidden': 'true' },
    Array.from({ length: lines }, () => h('span', { class: 'skeleton-line' })),
  );
}

/** A failed load, with the reason and a way to try again. */
export function loadFailed(error, retry) {
  return h(
    'div',
    { class: 'load-failed', role: 'alert' },
    h('p', {}, describeError(error)),
    h('button', { type: 'button', class: 'button secondary', onclick: retry }, t('common.retry')),
  );
}

/** A "load more" button for collections with `next_cursor`. */
export function moreButton(onclick) {
  return h('button', { type: 'button', class: 'button secondary more', onclick }, t('common.more'));
}

/**
 * Brings an answer that appeared below the fold (or under the phone's bottom navigation) into
 * view; one already visible stays where it is, so nothing jumps. The page's scroll-padding
 * (styles.css) keeps it clear of the header and the navigation.
 */
export function reveal(el) {
  const box = el.getBoundingClientRect();
  const nav = document.getElementById('app-nav').getBoundingClientRect();
  const visibleBottom = nav.top > window.innerHeight / 2 ? nav.top : window.innerHeight; // phone: nav at the bottom
  if (box.bottom > visibleBottom || box.top < 0) el.scrollIntoView({ block: 'nearest' });
}

export function section(title, ...children) {
  const id = `s-${Math.random().toString(36).slice(2, 9)}`;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': id },
    h('h2', { id }, title),
    ...children,
  );
}
