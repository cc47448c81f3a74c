// receiver/src/export-file/backups.ts
// Rotated file names as lumberjack (Tetragon's rotation library) makes them, gzip compression, and pruning.

import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

const STAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** lumberjack's "2006-01-02T15-04-05.000" in UTC. */
export function backupStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** "/var/log/x/tetragon.log" at time t → "/var/log/x/tetragon-2024-01-02T03-04-05.678.log". */
export function backupName(file: string, ms: number): string {
  const ext = path.extname(file);
  return path.join(path.dirname(file), `${path.basename(file, ext)}-${backupStamp(ms)}${ext}`);
}

export interface Backup {
  readonly path: string;
  /** When it was rotated, from its name. */
  readonly time: number;
}

/** The rotated copies of `file` (compressed or not) in its directory, newest first. */
export async function listBackups(file: string): Promise<Backup[]> {
  const dir = path.dirname(file);
  const ext = path.extname(file);
  const prefix = `${path.basename(file, ext)}-`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const backups: Backup[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const stamp = rest.endsWith(`${ext}.gz`) ? rest.slice(0, -(ext.length + 3)) : rest.endsWith(ext) ? rest.slice(0, rest.length - ext.length) : undefined;
    const m = stamp === undefined ? null : STAMP_RE.exec(stamp);
    if (m === null) continue;
    const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
    backups.push({ path: path.join(dir, name), time: Date.UTC(y, mo - 1, d, h, mi, s, ms) });
  }
  return backups.sort((a, b) => b.time - a.time || b.path.localeCompare(a.path));
}

/** Deletes all but the newest `maxBackups` rotated files (0 keeps them all, as in lumberjack); returns the deleted. */
export async function pruneBackups(file: string, maxBackups: number): Promise<string[]> {
  if (maxBackups <= 0) return [];
  const stale = (await listBackups(file)).slice(maxBackups);
  for (const b of stale) await unlink(b.path).catch(() => undefined);
  return stale.map((b) => b.path);
}

/** Gzips `file` to `file.gz` with the given mode, then removes `file`. */
export async function compressFile(file: string, mode: number): Promise<string> {
  const target = `${file}.gz`;
  await pipeline(createReadStream(file), createGzip(), createWriteStream(target, { mode, flags: 'w' }));
  await unlink(file);
  return target;
}
