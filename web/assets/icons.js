// Inline SVG icons, built as DOM (no files to fetch, no markup strings). Colours come from CSS
// classes, so both themes restyle them.
import { svg } from './dom.js';

function icon(className, ...children) {
  return svg(
    'svg',
    { class: `icon ${className}`, viewBox: '0 0 48 48', 'aria-hidden': 'true', focusable: 'false' },
    ...children,
  );
}

/** A coffee cup; `filled` draws it full, with steam and a tick. */
export function cup(filled = false) {
  return icon(
    filled ? 'cup is-filled' : 'cup',
    svg('path', { class: 'cup-steam', d: 'M17 4c-2 2.5 2 4.5 0 7M24 4c-2 2.5 2 4.5 0 7M31 4c-2 2.5 2 4.5 0 7' }),
    svg('path', { class: 'cup-handle', d: 'M35 19h2.5a5.5 5.5 0 0 1 0 11H34' }),
    svg('path', { class: 'cup-body', d: 'M10 15h25v11a11 11 0 0 1-11 11h-3a11 11 0 0 1-11-11z' }),
    svg('path', { class: 'cup-saucer', d: 'M6 42h34' }),
    svg('path', { class: 'cup-tick', d: 'M16.5 25l4.5 4.5 8-8.5' }),
  );
}

export function sun() {
  return icon(
    'sun',
    svg('circle', { cx: '24', cy: '24', r: '8' }),
    svg('path', {
      d: 'M24 5v6M24 37v6M5 24h6M37 24h6M10.6 10.6l4.2 4.2M33.2 33.2l4.2 4.2M10.6 37.4l4.2-4.2M33.2 14.8l4.2-4.2',
    }),
  );
}

export function moon() {
  return icon('moon', svg('path', { d: 'M38 30.5A15 15 0 0 1 17.5 10a15 15 0 1 0 20.5 20.5z' }));
}

export function gift() {
  return icon(
    'gift',
    svg('path', { d: 'M8 20h32v8H8zM11 28h26v14H11zM24 20v22' }),
    svg('path', { d: 'M24 20c-3-7-12-8-12-2 0 3 5 2 12 2zM24 20c3-7 12-8 12-2 0 3-5 2-12 2z' }),
  );
}

export function offline() {
  return icon(
    'offline-icon',
    svg('path', { d: 'M6 18a26 26 0 0 1 36 0M12 25a17 17 0 0 1 24 0M18 32a8 8 0 0 1 12 0M8 8l32 32' }),
  );
}

export function camera() {
  return icon(
    'camera',
    svg('path', { d: 'M6 16h8l4-5h12l4 5h8v22H6z' }),
    svg('circle', { cx: '24', cy: '26', r: '7' }),
  );
}

export function chart() {
  return icon('chart', svg('path', { d: 'M6 6v36h36M13 34V24M22 34V14M31 34V20M40 34V10' }));
}
