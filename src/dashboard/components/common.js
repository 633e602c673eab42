// Small pieces the views share: state badges, action groups that explain why they are
// disabled, error notes, confirmation dialogs.
import { useEffect, useId, useRef } from 'preact/hooks';
import { html } from '../lib/html.js';
import { useApp } from '../lib/context.js';

/** @param {{ state: string }} props */
export const StateBadge = ({ state }) => html`<span class=${`badge state-${state}`}>${state}</span>`;

/** @param {{ error: any, label?: string }} props */
export function ErrorNote({ error, label }) {
  if (!error) return null;
  const code = error.code ? `${error.code}: ` : '';
  return html`<p class="error" role="alert">${label ? `${label}: ` : ''}${code}${error.message ?? String(error)}</p>`;
}

/**
 * A group of action buttons. For a token that may not act, the buttons are disabled and a
 * note says why; each button points at it (aria-describedby), so a screen reader reads it too.
 * @param {{ label: string, children: (readOnly: { disabled: boolean, describedBy: string | undefined, title: string | undefined }) => any }} props
 */
export function Actions({ label, children }) {
  const { session } = useApp();
  const id = useId();
  const readOnly = !session.admin;
  const why = `Read only: this token (${session.scopes.join(', ') || 'no scope'}) may look but not act; actions need the admin scope.`;
  return html`<div class="actions" role="group" aria-label=${label}>
    ${children({ disabled: readOnly, describedBy: readOnly ? id : undefined, title: readOnly ? why : undefined })}
    ${readOnly ? html`<p class="note" id=${id}>${why}</p>` : null}
  </div>`;
}

/**
 * A modal confirmation (the native dialog: focus stays inside, Escape cancels).
 * @param {{ open: boolean, title: string, children: any, confirmLabel: string, onConfirm: () => void, onCancel: () => void, danger?: boolean }} props
 */
export function ConfirmDialog({ open, title, children, confirmLabel, onConfirm, onCancel, danger = true }) {
  const ref = useRef(/** @type {HTMLDialogElement | null} */ (null));
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.showModal();
      // The safe choice first: Enter right away cancels.
      dialog.querySelector('button')?.focus();
    }
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return html`<dialog ref=${ref} aria-labelledby=${titleId} onClose=${() => open && onCancel()}>
    <h2 id=${titleId}>${title}</h2>
    <div class="dialog-body">${children}</div>
    <div class="dialog-buttons">
      <button type="button" onClick=${onCancel}>Cancel</button>
      <button type="button" class=${danger ? 'danger' : 'primary'} onClick=${onConfirm}>${confirmLabel}</button>
    </div>
  </dialog>`;
}

/** A JSON value in a scrollable block, labelled. @param {{ label: string, value: unknown }} props */
export function JsonBlock({ label, value }) {
  const id = useId();
  return html`<section class="json" aria-labelledby=${id}>
    <h3 id=${id}>${label}</h3>
    <pre tabindex="0">${value === undefined ? '' : JSON.stringify(value, null, 2)}</pre>
  </section>`;
}
