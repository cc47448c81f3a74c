// test/helpers/agent.ts
// Starts the real agent (`node bin/execscope.js agent …`) for kernel tests and collects what it prints.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
export const CLI = join(PROJECT_ROOT, 'bin', 'execscope.js');
export const PROGS = join(PROJECT_ROOT, 'test', 'progs', 'bin');
/** The V8 flags bin/execscope.js's shebang gives the agent, for tests that start it with `node CLI`. */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Says loudly, once per file, that kernel tests are skipped. */
export function warnIfNotRoot(file: string): boolean {
  if (isRoot()) return true;
  process.stderr.write(`\n*** SKIPPING kernel tests in ${file}: they need root to load BPF programs ***\n\n`);
  return false;
}

export interface AgentHandle {
  readonly child: ChildProcess;
  readonly stdoutLines: string[];
  readonly stderrLines: string[];
  /** Resolves with the first stdout line (already printed or future) matching the predicate. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Like waitForLine over stdout lines parsed as JSON (non-JSON lines are ignored). */
  waitForJson<T = Record<string, unknown>>(predicate: (event: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Every stdout JSON object so far that matches. */
  jsonEvents<T = Record<string, unknown>>(predicate?: (event: T) => boolean): T[];
  /** GET /metrics (needs --metrics-server). */
  metrics(): Promise<string>;
  readonly metricsUrl: string | undefined;
  /** Sends the signal (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartAgentOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for "agent ready". */
  readonly readyTimeoutMs?: number;
}

/** Starts the agent with the given arguments (after `agent`) and waits until it is ready. */
export async function startAgent(args: readonly string[], options: StartAgentOptions = {}): Promise<AgentHandle> {
  // Agents in tests do not take the default gRPC port unless a test asks for one.
  const withServer = args.some((a) => a.startsWith('--server-address')) ? args : [...args, '--server-address', ''];
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, CLI, 'agent', ...withServer], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdoutLines.push(line);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (w.test(line)) {
        waiters.splice(i, 1);
        w.resolve(line);
      }
    }
  });
  let ready: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  let metricsUrl: string | undefined;
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrLines.push(line);
    if (line.includes('"msg":"metrics server listening"')) {
      const m = /"server.address":"([^"]+)","server.port":(\d+)/.exec(line);
      if (m !== null) metricsUrl = `http://${m[1]}:${m[2]}`;
    }
    if (line.includes('"msg":"agent ready"')) ready();
  });
  const exited = once(child, 'exit');
  const timeout = options.readyTimeoutMs ?? 30_000;
  const outcome = await Promise.race([
    readyPromise.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeout).unref()),
  ]);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`agent did not become ready (${outcome}); stderr:\n${stderrLines.join('\n')}`);
  }

  const waitForLine = (predicate: (line: string) => boolean, timeoutMs = 10_000): Promise<string> => {
    const existing = stdoutLines.find(predicate);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = waiters.findIndex((w) => w.resolve === done);
        if (i >= 0) waiters.splice(i, 1);
        reject(new Error(`no matching agent output within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      waiters.push({ test: predicate, resolve: done });
    });
  };
  const parse = <T>(line: string): T | undefined => {
    if (!line.startsWith('{')) return undefined;
    try {
      return JSON.parse(line) as T;
    } catch {
      return undefined;
    }
  };
  return {
    child,
    stdoutLines,
    stderrLines,
    waitForLine,
    async waitForJson<T>(predicate: (event: T) => boolean, timeoutMs?: number): Promise<T> {
      const line = await waitForLine((l) => {
        const e = parse<T>(l);
        return e !== undefined && predicate(e);
      }, timeoutMs);
      return parse<T>(line) as T;
    },
    jsonEvents<T>(predicate?: (event: T) => boolean): T[] {
      const out: T[] = [];
      for (const line of stdoutLines) {
        const e = parse<T>(line);
        if (e !== undefined && (predicate === undefined || predicate(e))) out.push(e);
      }
      return out;
    },
    get metricsUrl() {
      return metricsUrl;
    },
    async metrics(): Promise<string> {
      if (metricsUrl === undefined) throw new Error('agent started without --metrics-server');
      const res = await fetch(`${metricsUrl}/metrics`);
      return res.text();
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** Reads one metric value from Prometheus text (first sample whose labels contain `labels`). */
export function metricValue(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest.startsWith('{') || rest.startsWith(' ')) {
      if (labels !== '' && !rest.includes(labels)) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (!Number.isNaN(value)) return value;
    }
  }
  return undefined;
}
