// The owner's figures: today at a glance, the last 30 days as a bar chart (SVG drawn here: one
// bar per day, with a table of the same numbers for screen readers), what each barista did,
// and every event of a range as CSV for the accountant (a download that needs a recent password:
// asked for in place, as for any sensitive change).
import { ApiError, api, isAbort } from '../api.js';
import { emit } from '../events.js';
import { fill, h, svg } from '../dom.js';
import { field, showError, whileBusy } from '../forms.js';
import { formatNumber, language, t } from '../i18n.js';
import { ProofDeclined, withProof } from '../reauth.js';
import { loadFailed, section, skeleton } from './common.js';

const FIGURES = ['stamps', 'redemptions', 'voids', 'new_customers', 'active_customers'];

function formatDay(date, style = 'short') {
  const [y, m, d] = date.split('-').map(Number);
  const options = style === 'long' ? { dateStyle: 'medium' } : { month: 'numeric', day: 'numeric' };
  return new Intl.DateTimeFormat(language() === 'ko' ? 'ko-KR' : 'en-GB', { ...options, timeZone: 'UTC' }).format(Date.UTC(y, m - 1, d));
}

export function mountOverview(root, ctx) {
  const today = h('div', { class: 'figures' }, skeleton(2));
  const chart = h('div', { class: 'chart-box' }, skeleton(4));
  const staff = h('div', { class: 'staff-report' }, skeleton(3));
  const csv = exportSection(ctx);
  root.append(
    section(t('report.today'), today),
    section(t('report.chartTitle'), chart),
    section(t('report.staffTitle'), staff),
    csv.element,
  );

  (async () => {
    try {
      const daily = await api.get('/api/v1/reports/daily', { signal: ctx.signal });
      csv.setRange(daily.from, daily.to); // the cafe's days, not this device's
      const days = daily.items;
      const last = days[days.length - 1];
      fill(
        today,
        h('p', { class: 'figures-date' }, formatDay(last.date, 'long')),
        h('dl', { class: 'stats figures-list' },
          FIGURES.map((name) => h('div', { dataset: { figure: name } }, h('dt', {}, t(`report.${name}`)), h('dd', {}, formatNumber(last[name]))))),
      );
      fill(chart, barChart(days), dayTable(days));
    } catch (error) {
      if (isAbort(error) || error.status === 401) return;
      today.replaceChildren(loadFailed(error, () => ctx.rerender()));
      chart.replaceChildren();
    }
  })();

  (async () => {
    try {
      const report = await api.get('/api/v1/reports/staff', { signal: ctx.signal });
      fill(staff, report.items.length ? staffTable(report.items) : h('p', { class: 'empty' }, t('report.noStaff')));
    } catch (error) {
      if (isAbort(error) || error.status === 401) return;
      staff.replaceChildren(loadFailed(error, () => ctx.rerender()));
    }
  })();
}

/** Stamps per day as bars (redemptions as a dot on each), scaled to the busiest day. */
function barChart(days) {
  const width = 600;
  const height = 200;
  const top = 16;
  const bottom = 24;
  const left = 32;
  const max = Math.max(1, ...days.map((d) => d.stamps));
  const step = (width - left) / days.length;
  const y = (value) => height - bottom - (value / max) * (height - top - bottom);
  const bars = days.map((day, i) => {
    const x = left + i * step + step * 0.15;
    const bar = svg('rect', {
      class: 'bar',
      x: x.toFixed(1),
      y: y(day.stamps).toFixed(1),
      width: (step * 0.7).toFixed(1),
      height: Math.max(0, height - bottom - y(day.stamps)).toFixed(1),
      dataset: { date: day.date, stamps: String(day.stamps) },
    });
    bar.append(svg('title', {}, `${formatDay(day.date)}: ${t('report.stampsCount', { count: day.stamps })}`));
    return bar;
  });
  const labels = [0, Math.floor(days.length / 2), days.length - 1].map((i) =>
    svg('text', { class: 'axis-label', x: (left + i * step + step / 2).toFixed(1), y: String(height - 6), 'text-anchor': 'middle' }, formatDay(days[i].date)),
  );
  return svg(
    'svg',
    { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': t('report.chartLabel', { days: days.length, max }) },
    svg('line', { class: 'axis', x1: String(left), y1: String(height - bottom), x2: String(width), y2: String(height - bottom) }),
    svg('text', { class: 'axis-label', x: String(left - 6), y: String(top + 4), 'text-anchor': 'end' }, formatNumber(max)),
    svg('text', { class: 'axis-label', x: String(left - 6), y: String(height - bottom), 'text-anchor': 'end' }, '0'),
    bars,
    labels,
  );
}

/** The chart's numbers, for screen readers and for reading exact values. */
function dayTable(days) {
  return h(
    'details',
    { class: 'day-table' },
    h('summary', {}, t('report.showTable')),
    h(
      'div',
      // Scrolls sideways on a phone: reachable with the keyboard, and named.
      { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': t('report.chartTitle') },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('report.date')), FIGURES.map((f) => h('th', { scope: 'col' }, t(`report.${f}`))))),
        h('tbody', {}, [...days].reverse().map((day) =>
          h('tr', {}, h('th', { scope: 'row' }, formatDay(day.date, 'long')), FIGURES.map((f) => h('td', {}, formatNumber(day[f])))))),
      ),
    ),
  );
}

function staffTable(items) {
  return h(
    'div',
    { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': t('report.staffTitle') },
    h(
      'table',
      { class: 'staff-table' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('report.person')),
        h('th', { scope: 'col' }, t('report.stamps')),
        h('th', { scope: 'col' }, t('report.redemptions')),
        h('th', { scope: 'col' }, t('report.voids')))),
      h('tbody', {}, items.map((item) =>
        h('tr', { dataset: { username: item.user.username ?? '' } },
          h('th', { scope: 'row' }, item.user.username ?? t('report.formerAccount')),
          h('td', {}, formatNumber(item.stamps)),
          h('td', {}, formatNumber(item.redemptions)),
          h('td', {}, formatNumber(item.voids))))),
    ),
  );
}

/**
 * The CSV of a range: fetched (it needs a recent password), then saved as a file. The range is
 * the report's (the last 30 of the cafe's days, in its time zone); left empty, the server's
 * default is the same.
 */
function exportSection(ctx) {
  const from = field({ name: 'from', label: t('report.from'), type: 'date' });
  const to = field({ name: 'to', label: t('report.to'), type: 'date' });
  const fromInput = from.querySelector('input');
  const toInput = to.querySelector('input');
  const button = h('button', { type: 'submit', class: 'button primary', id: 'csv-download' }, t('report.download'));
  const form = h('form', { class: 'form export-form', novalidate: true },
    h('div', { class: 'form-alert', role: 'alert' }),
    h('p', { class: 'hint' }, t('report.exportHint')),
    h('div', { class: 'range-row' }, from, to),
    button,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(button, async () => {
      const alert = form.querySelector('.form-alert');
      alert.replaceChildren();
      alert.classList.remove('is-success');
      const query = new URLSearchParams();
      if (fromInput.value) query.set('from', fromInput.value);
      if (toInput.value) query.set('to', toInput.value);
      try {
        const { blob, name } = await withProof(() => fetchCsv(`/api/v1/reports/events.csv?${query}`, ctx.signal), { signal: ctx.signal });
        const url = URL.createObjectURL(blob);
        const link = h('a', { href: url, download: name, hidden: true });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        alert.classList.add('is-success');
        alert.append(h('p', {}, t('report.downloaded', { name })));
      } catch (error) {
        if (isAbort(error) || error.status === 401) return;
        if (error instanceof ProofDeclined) return alert.append(h('p', {}, t('report.notDownloaded')));
        showError(form, error);
      }
    });
  });
  return {
    element: section(t('report.exportTitle'), form),
    setRange(first, last) {
      if (!fromInput.value) fromInput.value = first;
      if (!toInput.value) toInput.value = last;
    },
  };
}

async function fetchCsv(url, signal) {
  const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store', signal, headers: { Accept: 'text/csv' } });
  if (!response.ok) {
    const problem = await response.json().catch(() => null);
    const error = new ApiError(response.status, problem, response.headers);
    if (error.status === 401) emit('unauthenticated', error);
    throw error;
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') ?? '')?.[1] ?? 'stamp-events.csv';
  return { blob: await response.blob(), name };
}
