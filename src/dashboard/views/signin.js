// The sign-in form, shown when the broker requires a token: the token is checked against
// the broker, then kept in this tab's sessionStorage (gone when the tab closes).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';

/** @param {{ onSignedIn: (token: string, session: any) => void, reason: string | null }} props */
export function SignIn({ onSignedIn, reason }) {
  const [error, setError] = useState(/** @type {string | null} */ (null));
  const [checking, setChecking] = useState(false);
  const input = useRef(/** @type {HTMLInputElement | null} */ (null));
  useEffect(() => input.current?.focus(), []);

  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const token = String(new FormData(/** @type {HTMLFormElement} */ (e.currentTarget)).get('token') ?? '').trim();
    if (!token) return setError('Paste an API token.');
    setChecking(true);
    setError(null);
    try {
      onSignedIn(token, await api.session(token));
    } catch (err) {
      setError(/** @type {Error} */ (err).message);
    } finally {
      setChecking(false);
    }
  };

  return html`<main id="main" class="signin">
    <form onSubmit=${submit} aria-labelledby="signin-title" aria-describedby="signin-help">
      <h1 id="signin-title">Sign in to Spool</h1>
      <p id="signin-help">
        This broker requires an API token. Paste one made with <code>spool token create --scope view</code> (read only) or <code>--scope admin</code> (may act).
        It stays in this tab only.
      </p>
      ${reason ? html`<p class="note">${reason}</p>` : null}
      <div class="field">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" ref=${input}
          aria-invalid=${error ? 'true' : 'false'} aria-describedby=${error ? 'token-error' : undefined} />
      </div>
      ${error ? html`<p id="token-error" class="error" role="alert">${error}</p>` : null}
      <button type="submit" class="primary" disabled=${checking}>Sign in</button>
    </form>
  </main>`;
}
