/** The bindings of topics to queues (docs/routing.md); no imports, so the dashboard's types can name them. */

/** A binding: publishes whose topic matches `pattern` get a copy in `queue`. */
export interface Binding {
  pattern: string;
  queue: string;
  /** When it was made (Unix ms). */
  createdAt: number;
}

/** The routing of a Spool: its bindings, where unrouted publishes go, and how many there were. */
export interface Bindings {
  /** In pattern order, then queue order. */
  bindings: Binding[];
  /** The queue a publish that matches no binding is sent to; null: none (it is only counted). */
  unroutedQueue: string | null;
  /** Publishes that matched no binding, since the store was made (across every process). */
  unrouted: number;
}
