// receiver/src/native/binding.ts
// Loads the native addon once and describes its surface; the only place that touches the raw module.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfLoadError, NativeBindingError } from '../errors.js';

export interface SensorOptions {
  /** Ring buffer size in bytes (power of two, multiple of the page size). */
  readonly ringBytes: number;
  /** Pending bytes at which the kernel wakes the consumer. */
  readonly wakeupBytes: number;
  /** v1 controller index (row of /proc/cgroups) whose cgroup path is recorded, -1 for none. */
  readonly cgroupV1Ssid: number;
  /** 0 none, 1 TRACEPARENT/TRACESTATE only, 2 the whole environment. */
  readonly envMode: number;
  /** argv bytes copied per exec. */
  readonly argsMax: number;
  /** Longest wait of the poll thread before it drains the ring. */
  readonly pollMs: number;
  /** Bytes handed to JavaScript but not yet taken, beyond which batches are dropped (and counted). */
  readonly maxInFlightBytes: number;
}

export interface NativeSensorStats {
  readonly records: number;
  readonly bytes: number;
  readonly batches: number;
  readonly userDroppedRecords: number;
  readonly userDroppedBatches: number;
  readonly inFlightBytes: number;
  /** Highest inFlightBytes seen: how far JavaScript fell behind the ring at worst. */
  readonly peakInFlightBytes: number;
  /** Per-CPU kernel counters summed, indexed by the ES_STAT_* slots of bpf/execscope_event.h. */
  readonly kernel: readonly number[];
}

export interface NativeSensor {
  stats(): NativeSensorStats;
  /** Detaches the programs, hands over what is left in the ring, and stops the poll thread. */
  close(): void;
}

export interface NativeBinding {
  readonly Sensor: new (options: SensorOptions, onBatch: (batch: Buffer) => void) => NativeSensor;
  layout(): Readonly<Record<string, number>> & { readonly constants: Readonly<Record<string, number>> };
  clocks(): { readonly boottimeNs: bigint; readonly realtimeNs: bigint };
  /** Drops every capability from every thread that can be reached; reports the threads that still hold some. */
  dropCapabilities(): { readonly threads: number; readonly signalled: number; readonly remaining: readonly number[] };
}

const ADDON_RELATIVE = ['build', 'Release', 'execscope.node'];

/** The project root, found from this module's location in the source or dist tree. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  throw new NativeBindingError('cannot find the execscope project root (package.json next to binding.gyp)');
}

/** Loads build/Release/execscope.node; throws NativeBindingError with what to do when it is missing. */
export function loadNativeBinding(): NativeBinding {
  const path = join(projectRoot(), ...ADDON_RELATIVE);
  if (!existsSync(path)) {
    throw new NativeBindingError(`native addon not built: ${path} is missing (run \`npm run build\`)`);
  }
  const require = createRequire(import.meta.url);
  return require(path) as NativeBinding;
}

/** Converts the addon's plain Error (code ERR_BPF_LOAD) into a BpfLoadError. */
export function toBpfLoadError(error: unknown): unknown {
  if (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ERR_BPF_LOAD') {
    const e = error as { message: string; errno: number; stage: string; verifierLog: string };
    return new BpfLoadError(e.message, e.errno, e.stage, e.verifierLog);
  }
  return error;
}
