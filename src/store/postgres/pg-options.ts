/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** postgres:// URL. */
  url: string;
  /** Schema holding Spool's tables (created if missing). Default `spool`. */
  schema?: string;
  /** Connections in this process's pool: 1–1000, default 10 (limit `poolSize`). */
  poolSize?: number;
  /**
   * Use LISTEN/NOTIFY to wake consumers in other processes at once. Turn off behind
   * a transaction-mode pooler (PgBouncer), where LISTEN does not work; consumers then poll.
   */
  notify?: boolean;
  historyMax?: number;
  /** Run migrations on open (default true). With false, a database behind the latest schema is refused. */
  migrate?: boolean;
}
