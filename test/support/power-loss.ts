/**
 * A power loss on a SQLite store, played: `snapshot` copies the committed state of the database
 * (VACUUM INTO, a consistent copy: what the disk held at the last sync), and `restore` puts it
 * back as the database with its WAL and shared memory gone, as if the writes since had never
 * reached the disk.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

/** Copies the committed state of the database at `path` to `to`. */
export function snapshot(path: string, to: string): void {
  const db = new DatabaseSync(path);
  try {
    db.exec(`VACUUM INTO '${to.replaceAll("'", "''")}'`);
  } finally {
    db.close();
  }
}

/** Puts the snapshot at `from` back as the database at `path` (no process may have it open). */
export function restore(from: string, path: string): void {
  for (const f of [`${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
  copyFileSync(from, path);
}
