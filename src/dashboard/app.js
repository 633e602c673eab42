// The dashboard: sign-in when the broker requires a token, then the views, on hash routes.
// Plain browser modules: Preact, htm and uPlot come from the import map, served by the broker.
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from './lib/html.js';
import { api, storedToken, storeToken } from './lib/api.js';
import { AppContext, useLive } from './lib/context.js';
import { LiveOverview } from './lib/live.js';
import { to, useRoute } from './lib/route.js';
import { SignIn } from './views/signin.js';
import { OverviewView } from './views/overview.js';
import { QueueView } from './views/queue.js';
import { JobsView } from './views/jobs.js';
import { JobView } from './views/job.js';
import { ConsumersView } from './views/consumers.js';
import { AlertsView } from './views/alerts.js';
import { BindingsView } from './views/bindings.js';

function App() {
  // 'checking' until the broker says whether this tab's token (or none) is good.
  const [session, setSession] = useState(/** @type {any} */ (null));
  const [signIn, setSignIn] = useState(/** @type {{ reason: string | null } | null} */ (null));

  useEffect(() => {
    api.session().then(setSession, (err) => {
      if (err.status === 401) setSignIn({ reason: storedToken() ? `The broker refused the token: ${err.message}` : null });
      else setSignIn({ reason: `The broker did not answer: ${err.message}` });
    });
    const onUnauthorized = (/** @type {Event} */ e) => {
      const detail = /** @type {CustomEvent} */ (e).detail;
      storeToken(null);
      setSession(null);
      setSignIn({ reason: `Signed out: ${detail?.message ?? 'the broker refused the token'}` });
    };
    window.addEventListener('spool:unauthorized', onUnauthorized);
    return () => window.removeEventListener('spool:unauthorized', onUnauthorized);
  }, []);

  if (session) return html`<${SignedIn} session=${session} onSignOut=${() => {
    storeToken(null);
    setSession(null);
    setSignIn({ reason: 'Signed out.' });
  }} />`;
  if (signIn) {
    return html`<${SignIn} reason=${signIn.reason} onSignedIn=${(/** @type {string} */ token, /** @type {any} */ s) => {
      storeToken(token);
      setSignIn(null);
      setSession(s);
    }} />`;
  }
  return html`<main id="main"><p aria-busy="true">Connecting…</p></main>`;
}

/** @param {{ session: any, onSignOut: () => void }} props */
function SignedIn({ session, onSignOut }) {
  const live = useMemo(() => new LiveOverview(), [session]);
  useEffect(() => {
    live.start();
    return () => live.close();
  }, [live]);
  const [message, setMessage] = useState(/** @type {{ text: string, kind: string, n: number } | null} */ (null));
  const announce = useCallback((/** @type {string} */ text, kind = 'ok') => setMessage((m) => ({ text, kind, n: (m?.n ?? 0) + 1 })), []);
  const app = useMemo(() => ({ session, live, announce }), [session, live, announce]);
  return html`<${AppContext.Provider} value=${app}>
    <a class="skip" href="#main" onClick=${(/** @type {Event} */ e) => {
      e.preventDefault();
      document.querySelector('main h1') instanceof HTMLElement && /** @type {HTMLElement} */ (document.querySelector('main h1')).focus();
    }}>Skip to content</a>
    <${Header} session=${session} onSignOut=${onSignOut} />
    <${Main} />
    <div class=${`status-line ${message?.kind ?? ''}`} role="status" aria-live="polite">${message ? message.text : ''}</div>
  <//>`;
}

/** @param {{ session: any, onSignOut: () => void }} props */
function Header({ session, onSignOut }) {
  const route = useRoute();
  const live = useLive();
  const current = (/** @type {string[]} */ ...views) => (views.includes(route.view) ? 'page' : undefined);
  const firing = live.overview?.alerts.filter((a) => a.state === 'firing').length ?? 0;
  const who = session.tokenId === null ? 'no token needed' : `token ${session.tokenId} · ${session.scopes.join(', ')}`;
  return html`<header class="top">
    <a class="brand" href=${to.overview()}><img src="/dashboard/icon.svg" alt="" width="22" height="22" /> Spool</a>
    <nav aria-label="Views">
      <ul>
        <li><a href=${to.overview()} aria-current=${current('overview', 'queue')}>Overview</a></li>
        <li><a href=${to.jobs()} aria-current=${current('jobs', 'job')}>Jobs</a></li>
        <li><a href=${to.consumers()} aria-current=${current('consumers')}>Consumers</a></li>
        <li><a href=${to.bindings()} aria-current=${current('bindings')}>Bindings</a></li>
        <li><a href=${to.alerts()} aria-current=${current('alerts')}>Alerts${firing > 0 ? html` <span class="badge alert-firing" aria-label=${`${firing} firing`}>${firing}</span>` : null}</a></li>
      </ul>
    </nav>
    <span class=${`live live-${live.status}`} title=${live.problem ?? ''}>${{ live: 'live', connecting: 'connecting…', polling: 'polling', offline: 'offline, reconnecting…' }[live.status]}</span>
    <span class="who">${who}${session.admin ? '' : html` <span class="badge readonly">read only</span>`}</span>
    ${session.tokenId === null ? null : html`<button type="button" class="link" onClick=${onSignOut}>Sign out</button>`}
  </header>`;
}

function Main() {
  const route = useRoute();
  const main = useRef(/** @type {HTMLElement | null} */ (null));
  const first = useRef(true);
  // After a navigation, focus moves to the new view's heading, so a screen reader reads where it is.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    /** @type {HTMLElement | null | undefined} */ (main.current?.querySelector('h1'))?.focus();
  }, [route.view, route.params.queue, route.params.id]);
  return html`<main id="main" ref=${main}>${view(route)}</main>`;
}

/** @param {import('./lib/route.js').Route} route */
function view(route) {
  switch (route.view) {
    case 'overview': return html`<${OverviewView} />`;
    case 'queue': return html`<${QueueView} key=${route.params.queue} queue=${route.params.queue} />`;
    case 'jobs': return html`<${JobsView} query=${route.query} />`;
    case 'job': return html`<${JobView} key=${route.params.id} id=${route.params.id} />`;
    case 'consumers': return html`<${ConsumersView} />`;
    case 'alerts': return html`<${AlertsView} />`;
    case 'bindings': return html`<${BindingsView} />`;
    default: return html`<h1 tabindex="-1">Not found</h1><p>No such view. <a href=${to.overview()}>Back to the overview</a>.</p>`;
  }
}

render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')));
