// receiver/src/cli/getevents.ts
// `execscope getevents`: tetra getevents for execscope; streams from the agent, or filters JSON lines on stdin.

import { fstatSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Option, type Command } from 'commander';
import { decodeResponseJson } from '../encode/json-encoder.js';
import { ConfigError, FilterError, UsageError, getErrorMessage } from '../errors.js';
import { createSensorsClient, waitForReady, type SensorsClient } from '../grpc/client.js';
import { fromProtoResponse } from '../proto/from-proto.js';
import { loadTetragonProto } from '../proto/load.js';
import type { GetEventsResponseMsg } from '../proto/messages.js';
import { EventPrinter } from './event-printer.js';
import { collectCsv, resolveGetEventsSettings, type GetEventsFlags, type GetEventsSettings } from './getevents-settings.js';

/** Everything getevents touches outside itself, injectable for tests. */
export interface GetEventsIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** stdin is a pipe, file or socket (not a terminal or /dev/null): read events from it instead of the agent. */
  readonly stdinIsPiped: boolean;
  readonly stdoutIsTty: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborting stops the stream (tests; the CLI relies on SIGINT's default). */
  readonly signal?: AbortSignal;
  setExitCode(code: number): void;
}

/** Like Go's `Mode() & ModeCharDevice == 0`, which tetra uses to decide to read stdin. */
function stdinIsPiped(): boolean {
  try {
    return !fstatSync(0).isCharacterDevice();
  } catch {
    return false;
  }
}

function defaultIo(): GetEventsIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsPiped: stdinIsPiped(),
    stdoutIsTty: process.stdout.isTTY,
    env: process.env,
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}

const PREFIX = 'execscope getevents: ';

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Reads JSON event lines, applies the filters and field filters locally, prints. Unparsable lines are skipped. */
async function runFromStdin(settings: GetEventsSettings, io: GetEventsIo, printer: EventPrinter): Promise<number> {
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  const stop = (): void => lines.close();
  io.signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const response = decodeResponseJson(line);
      if ('error' in response) continue;
      const event = fromProtoResponse(response);
      if (event === undefined || !settings.predicate(event)) continue;
      if (!printer.write(settings.fieldFilters.apply(response))) await printer.drained();
      if (printer.broken) break;
    }
  } finally {
    io.signal?.removeEventListener('abort', stop);
  }
  return 0;
}

async function connect(client: SensorsClient, settings: GetEventsSettings, io: GetEventsIo): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await waitForReady(client, settings.timeoutMs);
      return;
    } catch (error: unknown) {
      if (attempt >= settings.retries || io.signal?.aborted === true) {
        throw new Error(`cannot connect to ${settings.target}: ${getErrorMessage(error)}`, { cause: error });
      }
      // Exponential backoff between attempts, as tetra does.
      await sleep(Math.min(1000 * 2 ** attempt, 10_000), io.signal);
    }
  }
}

/** Streams until the server ends the stream ('ended'), we stop ('stopped'), or it fails (rejects). */
function stream(client: SensorsClient, settings: GetEventsSettings, io: GetEventsIo, printer: EventPrinter): Promise<'ended' | 'stopped'> {
  return new Promise((resolve, reject) => {
    const call = client.GetEvents(settings.request);
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      call.cancel();
      resolve('stopped');
    };
    io.signal?.addEventListener('abort', stop, { once: true });
    const cleanup = (): void => io.signal?.removeEventListener('abort', stop);
    call.on('data', (message: GetEventsResponseMsg) => {
      if (printer.write(message)) return;
      if (printer.broken) {
        cleanup();
        stop();
        return;
      }
      call.pause();
      void printer.drained().then(() => call.resume());
    });
    call.on('error', (error: ServiceError) => {
      cleanup();
      if (!stopped) reject(error);
    });
    call.on('end', () => {
      cleanup();
      if (!stopped) resolve('ended');
    });
  });
}

async function runFromServer(settings: GetEventsSettings, io: GetEventsIo, printer: EventPrinter): Promise<number> {
  const proto = loadTetragonProto();
  for (;;) {
    const client = createSensorsClient(proto, settings.target, settings.maxRecvSize);
    try {
      await connect(client, settings, io);
      const result = await stream(client, settings, io, printer);
      if (result === 'stopped' || printer.broken || !settings.reconnect) return 0;
      io.stderr.write(`${PREFIX}the agent ended the stream; reconnecting in ${settings.reconnectWaitMs} ms\n`);
    } catch (error: unknown) {
      const code = (error as Partial<ServiceError>).code;
      const message = code === undefined ? getErrorMessage(error) : `${(error as ServiceError).details} (${status[code] ?? code})`;
      // A rejected request will be rejected again: do not retry it.
      if (!settings.reconnect || code === status.INVALID_ARGUMENT || io.signal?.aborted === true) {
        io.stderr.write(`${PREFIX}${message}\n`);
        return io.signal?.aborted === true ? 0 : 1;
      }
      io.stderr.write(`${PREFIX}${message}; reconnecting in ${settings.reconnectWaitMs} ms\n`);
    } finally {
      client.close();
    }
    await sleep(settings.reconnectWaitMs, io.signal);
    if (io.signal?.aborted === true) return 0;
  }
}

/** Runs getevents with parsed flags; resolves to the exit code (0 done, 1 runtime failure, 2 bad flags). */
export async function runGetEvents(flags: GetEventsFlags, io: GetEventsIo): Promise<number> {
  let settings: GetEventsSettings;
  try {
    settings = resolveGetEventsSettings(flags, io.stdoutIsTty, io.env);
  } catch (error: unknown) {
    if (error instanceof ConfigError || error instanceof FilterError) {
      io.stderr.write(`${PREFIX}${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const printer = new EventPrinter(io.stdout, settings.format, settings.compact);
  return io.stdinIsPiped ? runFromStdin(settings, io, printer) : runFromServer(settings, io, printer);
}

/**
 * Adds `getevents` to the program. Bad flag values print a message and set exit code 2; commander's own
 * usage errors (unknown flag, missing value) are printed by commander and thrown as UsageError after
 * setting exit code 2. `io` defaults to the process's streams.
 */
export function registerGetEvents(program: Command, io?: Partial<GetEventsIo>): void {
  let resolved: GetEventsIo | undefined;
  const getIo = (): GetEventsIo => (resolved ??= { ...defaultIo(), ...io });
  const csv = (value: string, previous: string[] | undefined): string[] => collectCsv(value, previous);
  program
    .command('getevents')
    .description('Print events from a running agent (gRPC), or filter JSON event lines piped on stdin')
    .addOption(new Option('-o, --output <format>', 'output format: json or compact').default('json'))
    .addOption(new Option('--color <when>', 'colours in compact output: auto, always or never').default('auto'))
    .addOption(new Option('-e, --event-types <types>', 'event types to show, e.g. PROCESS_EXEC,PROCESS_EXIT').argParser(csv))
    .addOption(new Option('-f, --include-fields <fields>', 'keep only these fields of the event, e.g. process.binary,parent.pid').argParser(csv))
    .addOption(new Option('-F, --exclude-fields <fields>', 'remove these fields of the event').argParser(csv))
    .addOption(new Option('-n, --namespace <namespaces>', 'Kubernetes namespaces (exact)').argParser(csv))
    .addOption(new Option('--namespaces <namespaces>').argParser(csv).hideHelp())
    .addOption(new Option('--process <regexes>', 'binary regexes (RE2)').argParser(csv))
    .addOption(new Option('--processes <regexes>').argParser(csv).hideHelp())
    .addOption(new Option('--pod <regexes>', 'pod name regexes (RE2)').argParser(csv))
    .addOption(new Option('--pods <regexes>').argParser(csv).hideHelp())
    .addOption(new Option('--containers <regexes>').argParser(csv).hideHelp())
    .addOption(new Option('--host', 'include host processes (those without a pod) in the namespace filter'))
    .addOption(new Option('--namespace-regex <regexes>', 'Kubernetes namespace regexes (RE2)').argParser(csv))
    .addOption(new Option('--timestamps', 'prefix compact lines with the event time'))
    .addOption(new Option('--server-address <address>', 'agent address: host:port or unix:///path (default localhost:54321)'))
    .addOption(new Option('--timeout <duration>', 'connection timeout').default('30s'))
    .addOption(new Option('--retries <n>', 'connection retries, with exponential backoff').default('1'))
    .addOption(new Option('--reconnect', 'keep reconnecting when the stream fails or ends'))
    .addOption(new Option('--reconnect-wait <duration>', 'wait between reconnections').default('2s'))
    .addOption(new Option('--max-recv-size <bytes>', 'largest gRPC message accepted').default(String(10 * 1024 * 1024)))
    .configureOutput({
      writeOut: (s) => getIo().stdout.write(s),
      writeErr: (s) => getIo().stderr.write(s),
    })
    .exitOverride((error) => {
      if (error.exitCode === 0) throw error;
      getIo().setExitCode(2);
      throw new UsageError(error.message, { cause: error });
    })
    .action(async (flags: GetEventsFlags) => {
      const current = getIo();
      current.setExitCode(await runGetEvents(flags, current));
    });
}
