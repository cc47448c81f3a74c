// receiver/src/export-file/rotating-file.ts
// An append-only file that rotates by size or on demand, compresses and prunes backups, and can reopen.

import { chmod, mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { backupName, compressFile, pruneBackups } from './backups.js';

export interface RotatingFileOptions {
  readonly path: string;
  /** Rotate before a write would take the file past this many bytes. */
  readonly maxSizeBytes: number;
  /** Rotated files kept (0 keeps all). */
  readonly maxBackups: number;
  /** Gzip rotated files. */
  readonly compress: boolean;
  /** File mode of the log and its backups, e.g. 0o600. */
  readonly mode: number;
  /** Wall clock for backup names (tests). */
  readonly now?: () => number;
  /** Told about failures of background work (compression, pruning). */
  readonly onBackgroundError?: (error: unknown) => void;
  /** Told after every rotation with the backup's path. */
  readonly onRotate?: (backup: string) => void;
}

/**
 * Not safe for concurrent calls: the owner serialises writeLines/rotate/reopen/close (JsonFileSink's chain).
 * Compression and pruning run in the background, one after another, and `close` waits for them.
 */
export class RotatingFile {
  private _handle: FileHandle | undefined;
  private _size = 0;
  private _lastStamp = 0;
  private _maintenance: Promise<void> = Promise.resolve();

  constructor(private readonly _options: RotatingFileOptions) {}

  /** Bytes in the current file. */
  get size(): number {
    return this._size;
  }

  /** Opens (creating the directory and file) for appending. */
  async open(): Promise<void> {
    const file = this._options.path;
    // No recursive mkdir: a missing directory is a typo to report, and Node's recursive mkdir never returns
    // under /proc. One level is created (e.g. /var/log/execscope), as log agents usually do.
    const dir = path.dirname(file);
    const parent = await stat(dir).catch(() => undefined);
    if (parent === undefined) await mkdir(dir, { mode: 0o755 });
    else if (!parent.isDirectory()) throw new Error(`${dir} is not a directory`);
    this._handle = await open(file, 'a', this._options.mode);
    // The mode given to open() only applies to a new file; enforce it on an existing one too.
    await chmod(file, this._options.mode);
    this._size = (await this._handle.stat()).size;
  }

  /** Appends lines (each already ending in "\n"), rotating at line boundaries so no file exceeds the limit. */
  async writeLines(lines: readonly string[]): Promise<number> {
    if (this._handle === undefined) await this.open();
    let written = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const flushBatch = async (): Promise<void> => {
      if (batch.length === 0) return;
      const data = Buffer.concat(batch, batchBytes);
      await this._writeAll(data);
      written += data.length;
      batch = [];
      batchBytes = 0;
    };
    for (const line of lines) {
      const bytes = Buffer.from(line, 'utf8');
      if (this._size + batchBytes + bytes.length > this._options.maxSizeBytes && this._size + batchBytes > 0) {
        await flushBatch();
        await this.rotate();
      }
      batch.push(bytes);
      batchBytes += bytes.length;
    }
    await flushBatch();
    return written;
  }

  private async _writeAll(data: Buffer): Promise<void> {
    const handle = this._handle;
    if (handle === undefined) throw new Error('export file is not open');
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    this._size += data.length;
  }

  /** Renames the current file to a timestamped backup and starts a new one; a no-op for an empty file. */
  async rotate(): Promise<void> {
    if (this._handle === undefined) await this.open();
    if (this._size === 0) return;
    await this._handle?.close();
    this._handle = undefined;
    // Two rotations in the same millisecond must not overwrite each other's backup.
    const stamp = Math.max(this._options.now?.() ?? Date.now(), this._lastStamp + 1);
    this._lastStamp = stamp;
    const backup = backupName(this._options.path, stamp);
    await rename(this._options.path, backup);
    await this.open();
    this._options.onRotate?.(backup);
    const { compress, mode, maxBackups } = this._options;
    this._maintenance = this._maintenance.then(async () => {
      try {
        if (compress) {
          const gz = await compressFile(backup, mode);
          await chmod(gz, mode);
        }
        await pruneBackups(this._options.path, maxBackups);
      } catch (error: unknown) {
        this._options.onBackgroundError?.(error);
      }
    });
  }

  /** Closes and opens the path again (after an external logrotate moved the file away). */
  async reopen(): Promise<void> {
    await this._handle?.close();
    this._handle = undefined;
    await this.open();
  }

  /** Resolves when background compression and pruning are done. */
  async settled(): Promise<void> {
    await this._maintenance;
  }

  /** Flushes to disk, closes, and waits for background work. */
  async close(): Promise<void> {
    const handle = this._handle;
    this._handle = undefined;
    if (handle !== undefined) {
      await handle.datasync().catch(() => undefined);
      await handle.close();
    }
    await this._maintenance;
  }

  /** The size on disk of the current file (tests). */
  async sizeOnDisk(): Promise<number> {
    return (await stat(this._options.path)).size;
  }
}
