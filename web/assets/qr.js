// A QR code drawn as SVG by the app (no image request, nothing inline for the CSP to refuse):
// the matrix comes from the vendored encoder (vendor/qr, MIT), the path is built here. Dark
// modules on white whatever the theme: a scanner wants that contrast.
import { svg } from './dom.js';
import { encodeQR } from './vendor/qr/index.js';

/** An <svg> of `text` as a QR code, with a quiet zone of 4 modules; `label` names it. */
export function qrCode(text, { label, className = 'qr', ecc = 'medium' } = {}) {
  const matrix = encodeQR(text, 'raw', { ecc, border: 4 });
  const size = matrix.length;
  let path = '';
  matrix.forEach((row, y) => {
    // One rectangle per run of dark modules in a row: a short path, drawn without seams.
    for (let x = 0; x < size; x += 1) {
      if (!row[x]) continue;
      let end = x;
      while (end + 1 < size && row[end + 1]) end += 1;
      path += `M${x} ${y}h${end - x + 1}v1h${-(end - x + 1)}z`;
      x = end;
    }
  });
  return svg(
    'svg',
    {
      class: className,
      viewBox: `0 0 ${size} ${size}`,
      role: 'img',
      'aria-label': label,
      'shape-rendering': 'crispEdges',
    },
    svg('rect', { class: 'qr-light', width: size, height: size }),
    svg('path', { class: 'qr-dark', d: path }),
  );
}
