/**
 * A small disk for the `disk-full` fault: a tmpfs of a fixed size mounted on a directory of its
 * own, on which a deployment keeps its SQLite file (or its PostgreSQL data directory). `fill`
 * writes a filler file until the filesystem refuses with ENOSPC, so the store's next write that
 * needs space fails as on a real full disk; `free` deletes it. Mounting needs root (or
 * CAP_SYS_ADMIN), as the fault runs have in CI; without it the fault says so and fails.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FILLER = '.spool-faults-filler';

export class SmallDisk {
  readonly dir: string;
  #mounted = true;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static mount(sizeMb: number): SmallDisk {
    const dir = mkdtempSync(join(tmpdir(), 'spool-faults-disk-'));
    try {
      // mode 1777: PostgreSQL runs as its own user and creates its data directory in here.
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=1777`, 'tmpfs', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      const stderr = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim();
      throw new Error(`the disk-full fault mounts a ${sizeMb} MB tmpfs and could not (${stderr}): run it as root or with CAP_SYS_ADMIN`);
    }
    return new SmallDisk(dir);
  }

  /** Bytes still free. */
  freeBytes(): number {
    const s = statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  /** Writes the filler until the filesystem is full (ENOSPC), in 1 MB and then 4 kB writes, so nothing is left. */
  fill(): void {
    const fd = openSync(join(this.dir, FILLER), 'a');
    try {
      for (const size of [1 << 20, 4096, 512]) {
        const chunk = Buffer.alloc(size);
        for (;;) {
          try {
            writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  free(): void {
    rmSync(join(this.dir, FILLER), { force: true });
  }

  /** Unmounts (lazily: a process still holding a file open does not keep it mounted) and removes the mount point. */
  dispose(): void {
    if (!this.#mounted) return;
    this.#mounted = false;
    try {
      execFileSync('umount', ['-l', this.dir], { stdio: 'ignore' });
    } catch {}
    rmSync(this.dir, { recursive: true, force: true });
  }
}
