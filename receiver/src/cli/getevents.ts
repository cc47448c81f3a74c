// receiver/src/cli/getevents.ts
// `execscope getevents`: tetra getevents for execscope; streams from the agent, or filters JSON lines on stdin.

import { fstatSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Option, type Command } from 'commander';
import { decodeResponseJson } from '../encode/json-encoder.js';
import { ConfigError, FilterError, UsageError, getErrorMessage } from '../errors.js';
import { compileFieldFilter } from '../filter/field-filter.js';
import { compileRe2 } from '../filter/re2.js';
import { createSensorsClient, lastConnectionError, waitForReady, type SensorsClient } from '../grpc/client.js';
import { loadClientTls, splitFileList, type ClientTls } from '../grpc/tls.js';
import { fromProtoResponse } from '../proto/from-proto.js';
import { loadTetragonProto } from '../proto/load.js';
import type { GetEventsResponseMsg } from '../proto/messages.js';
import { EventPrinter } from './event-printer.js';
import { collectCsv, resolveGetEventsSettings, type GetEventsFlags, type GetEventsSettings } from './getevents-settings.js';
import { parseGoDuration } from './go-duration.js';

/** getevents' flags: the filter and output flags, plus the client side of the agent's TLS. */
export interface GetEventsCliFlags extends GetEventsFlags {
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  readonly tlsCaCertFiles?: readonly string[];
  readonly tlsServerName?: string;
}

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
        // waitForReady only says the deadline passed; ask once more for the reason (refused, TLS alert, …).
        const reason = io.signal?.aborted === true ? undefined : await lastConnectionError(client);
        throw new Error(`cannot connect to ${settings.target}: ${getErrorMessage(error)}${reason !== undefined ? ` (${reason})` : ''}`, { cause: error });
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

async function runFromServer(settings: GetEventsSettings, tls: ClientTls | undefined, io: GetEventsIo, printer: EventPrinter): Promise<number> {
  const proto = loadTetragonProto();
  for (;;) {
    const client = createSensorsClient(proto, settings.target, settings.maxRecvSize, tls);
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

/** Regex flags and the Filter field each fills. */
const REGEX_FLAGS = [
  ['process', '--process'],
  ['processes', '--processes'],
  ['pod', '--pod'],
  ['pods', '--pods'],
  ['containers', '--containers'],
  ['namespaceRegex', '--namespace-regex'],
] as const;

/**
 * Checks each value against its own flag, so the message names the flag the user typed (the request built
 * from them would only name the Filter field, e.g. allow_list[0].binary_regex). Throws ConfigError.
 */
function checkFlagValues(flags: GetEventsCliFlags): void {
  for (const [key, flag] of REGEX_FLAGS) {
    for (const pattern of flags[key] ?? []) {
      try {
        compileRe2(pattern, 'regex');
      } catch (error: unknown) {
        if (error instanceof FilterError) {
          const reason = error.message.replace(`invalid regex ${JSON.stringify(pattern)}: `, '');
          throw new ConfigError(`${flag} ${JSON.stringify(pattern)}: not an RE2 regular expression: ${reason}`, { cause: error });
        }
        throw error;
      }
    }
  }
  for (const [key, flag] of [['includeFields', '--include-fields'], ['excludeFields', '--exclude-fields']] as const) {
    for (const path of flags[key] ?? []) {
      try {
        compileFieldFilter({ fields: { paths: [path] } });
      } catch (error: unknown) {
        if (error instanceof FilterError) throw new ConfigError(`${flag} ${JSON.stringify(path)}: ${error.message}`, { cause: error });
        throw error;
      }
    }
  }
  // A zero or negative timeout would give up before the first connection attempt.
  if (flags.timeout !== undefined && parseGoDuration(flags.timeout, '--timeout') <= 0) {
    throw new ConfigError(`--timeout ${JSON.stringify(flags.timeout)}: expected a positive duration such as 30s`);
  }
  if (flags.reconnectWait !== undefined && parseGoDuration(flags.reconnectWait, '--reconnect-wait') < 0) {
    throw new ConfigError(`--reconnect-wait ${JSON.stringify(flags.reconnectWait)}: must not be negative`);
  }
}

/** The client TLS flags as credentials (undefined: plaintext); TLS needs a TCP address. Throws ConfigError. */
function resolveClientTls(flags: GetEventsCliFlags, target: string): ClientTls | undefined {
  const tls = loadClientTls({
    certFile: (flags.tlsCertFile ?? '').trim(),
    keyFile: (flags.tlsKeyFile ?? '').trim(),
    caCertFiles: splitFileList(flags.tlsCaCertFiles),
    serverName: (flags.tlsServerName ?? '').trim(),
  });
  if (tls !== undefined && target.startsWith('unix:')) {
    throw new ConfigError(`--tls-* flags apply to TCP addresses; --server-address ${JSON.stringify(flags.serverAddress)} is a unix socket (the agent serves it without TLS)`);
  }
  return tls;
}

/** Runs getevents with parsed flags; resolves to the exit code (0 done, 1 runtime failure, 2 bad flags). */
export async function runGetEvents(flags: GetEventsCliFlags, io: GetEventsIo): Promise<number> {
  let settings: GetEventsSettings;
  let tls: ClientTls | undefined;
  try {
    checkFlagValues(flags);
    settings = resolveGetEventsSettings(flags, io.stdoutIsTty, io.env);
    tls = resolveClientTls(flags, settings.target);
  } catch (error: unknown) {
    if (error instanceof ConfigError || error instanceof FilterError) {
      io.stderr.write(`${PREFIX}${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const printer = new EventPrinter(io.stdout, settings.format, settings.compact);
  return io.stdinIsPiped ? runFromStdin(settings, io, printer) : runFromServer(settings, tls, io, printer);
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
    .addOption(new Option('--tls-ca-cert-files <paths>', 'PEM CA bundles that verify the agent (comma-separated); any --tls-* flag turns TLS on, with the system roots by default').argParser(csv))
    .addOption(new Option('--tls-cert-file <path>', 'PEM client certificate, for an agent that requires one (mutual TLS)'))
    .addOption(new Option('--tls-key-file <path>', 'PEM private key of --tls-cert-file'))
    .addOption(new Option('--tls-server-name <name>', "name to verify in the agent's certificate (and send as SNI) instead of the host in --server-address"))
    .configureOutput({
      writeOut: (s) => getIo().stdout.write(s),
      writeErr: (s) => getIo().stderr.write(s),
    })
    .exitOverride((error) => {
      if (error.exitCode === 0) throw error;
      getIo().setExitCode(2);
      throw new UsageError(error.message, { cause: error });
    })
    .action(async (flags: GetEventsCliFlags) => {
      const current = getIo();
      current.setExitCode(await runGetEvents(flags, current));
    });
}
