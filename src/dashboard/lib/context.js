// What every view shares: who is signed in, the live overview, and the status line that
// tells screen readers (and everyone) what an action did.
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';

/**
 * @typedef {{ tokenId: string | null, scopes: string[], admin: boolean }} Session
 * @typedef {{ session: Session, live: import('./live.js').LiveOverview, announce: (text: string, kind?: 'ok' | 'error') => void }} App
 */

export const AppContext = createContext(/** @type {App | null} */ (null));

/** @returns {App} */
export function useApp() {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside the app');
  return app;
}

/** The live overview; the calling view renders again on each push. */
export function useLive() {
  const { live } = useApp();
  const [, setVersion] = useState(0);
  useEffect(() => live.subscribe(() => setVersion(live.version)), [live]);
  return live;
}

/**
 * An async read: its value, its error, and `reload`. An answer is shown unless a newer load's
 * already is, so a slow answer never replaces a fresher one. When `deps` change the last
 * value stays shown until the new one arrives, so a view refreshed by the live overview does
 * not flicker (views of another thing, another job or filter, are mounted afresh by key).
 * @template T
 * @param {() => Promise<T>} load
 * @param {unknown[]} deps
 * @returns {{ data: T | undefined, error: any, loading: boolean, reload: () => Promise<void> }}
 */
export function useAsync(load, deps) {
  const [state, setState] = useState(/** @type {{ data: T | undefined, error: any, loading: boolean }} */ ({ data: undefined, error: null, loading: true }));
  const seq = useRef(0);
  // The newest load whose answer is on screen. A load's answer is shown unless a later one's already
  // is: superseding every load that has not finished would starve the page when pushes come faster
  // than answers (a loaded machine), leaving it at "Loading…" for good.
  const shown = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine > shown.current) {
        shown.current = mine;
        setState({ data, error: null, loading: mine !== seq.current });
      }
    } catch (error) {
      if (mine > shown.current) {
        shown.current = mine;
        setState((s) => ({ data: s.data, error, loading: mine !== seq.current }));
      }
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { ...state, reload };
}
