// The counter's camera: reads the card code's QR code from the customer's screen. The browser's
// own BarcodeDetector where it has one that reads QR codes (Chrome on Android, macOS); else the
// vendored decoder (vendor/qr/decode.js, MIT), loaded only when the camera opens, which offers
// the same interface (Chromium on Linux and Windows has no BarcodeDetector).
import { h } from '../dom.js';
import { t } from '../i18n.js';

const EVERY_MS = 150;

export function canScan() {
  return typeof navigator.mediaDevices?.getUserMedia === 'function';
}

async function detector() {
  if (typeof window.BarcodeDetector === 'function') {
    try {
      if ((await window.BarcodeDetector.getSupportedFormats()).includes('qr_code')) {
        return new window.BarcodeDetector({ formats: ['qr_code'] });
      }
    } catch {
      // Present but unusable: the vendored one.
    }
  }
  const { BarcodeDetector } = await import('../vendor/qr/decode.js');
  return new BarcodeDetector({ formats: ['qr_code'] });
}

/**
 * Opens the camera in a dialog until a QR code of 8 digits is seen (resolves with them) or the
 * person closes it (resolves with null). A QR code of anything else is ignored.
 */
export function scanDialog({ signal } = {}) {
  return new Promise((resolve) => {
    const video = h('video', { class: 'scan-video', muted: true, playsinline: true, autoplay: true });
    const status = h('p', { class: 'scan-status', role: 'status' }, t('scan.starting'));
    const close = h('button', { type: 'button', class: 'button secondary', id: 'scan-close' }, t('scan.close'));
    const dialog = h(
      'dialog',
      { class: 'dialog scan-dialog', id: 'scan-dialog', 'aria-labelledby': 'scan-title' },
      h('h2', { id: 'scan-title' }, t('scan.title')),
      h('div', { class: 'scan-frame' }, video),
      status,
      h('div', { class: 'dialog-actions' }, close),
    );
    let stream = null;
    let timer = null;
    let found = null;

    function stop() {
      clearTimeout(timer);
      for (const track of stream?.getTracks() ?? []) track.stop();
      stream = null;
    }
    dialog.addEventListener('close', () => {
      stop();
      dialog.remove();
      signal?.removeEventListener('abort', onAbort);
      resolve(found);
    });
    const onAbort = () => dialog.open && dialog.close();
    signal?.addEventListener('abort', onAbort);
    close.addEventListener('click', () => dialog.close());
    document.body.append(dialog);
    dialog.showModal();
    close.focus();

    (async () => {
      let reader;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
        if (!dialog.open) return stop();
        video.srcObject = stream;
        await video.play();
        reader = await detector();
        status.textContent = t('scan.looking');
      } catch (error) {
        stop();
        status.textContent = error?.name === 'NotAllowedError' ? t('scan.denied') : t('scan.failed');
        return;
      }
      const look = async () => {
        if (!dialog.open) return;
        try {
          if (video.readyState >= 2) {
            for (const code of await reader.detect(video)) {
              const digits = String(code.rawValue ?? '').trim();
              if (/^\d{8}$/.test(digits)) {
                found = digits;
                return dialog.close();
              }
            }
          }
        } catch {
          // A frame that could not be read: the next one.
        }
        timer = setTimeout(look, EVERY_MS);
      };
      look();
    })();
  });
}
