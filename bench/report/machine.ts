/**
 * The machine a benchmark ran on, read from the machine itself (node:os and
 * /etc/os-release), for the report.
 * @example
 * describeMachine(); // { cpu: 'AMD EPYC at 2.6 GHz', cores: 2, memoryGiB: 23.5, os: 'Debian GNU/Linux 13 (trixie)', kernel: 'Linux 6.18.0 x64', node: 'v24.21.0', sqlite: '3.53.4' }
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  /** The CPU model name as the OS reports it, with its clock when known. */
  cpu: string;
  /** Logical CPUs this process may use. */
  cores: number;
  /** Total memory, GiB. */
  memoryGiB: number;
  /** The distribution (PRETTY_NAME of /etc/os-release), or the OS type. */
  os: string;
  /** Kernel name, release and architecture. */
  kernel: string;
  /** Node's version. */
  node: string;
  /** SQLite's version in node:sqlite, when there is one. */
  sqlite: string | null;
}

function distribution(): string | null {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    return m?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The machine this process runs on. */
export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim().replace(/\s+/g, ' ');
  return {
    cpu: `${model && model !== '' ? model : 'unknown'}${cpus[0] && cpus[0].speed > 0 ? ` at ${(cpus[0].speed / 1000).toFixed(1)} GHz` : ''}`,
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: distribution() ?? os.type(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    sqlite: process.versions.sqlite ?? null,
  };
}
