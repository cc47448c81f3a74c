// receiver/src/cli/getevents-settings.ts
// `execscope getevents` flags → validated settings: the GetEvents request, local filters, output and connection.

import { ConfigError } from '../errors.js';
import { compileFilterLists, eventTypeNumber, type EventPredicate } from '../filter/event-filter.js';
import { FieldFilterChain } from '../filter/field-filter.js';
import { parseServerAddress } from '../grpc/address.js';
import type { CompactOptions } from '../encode/compact-encoder.js';
import type { FieldFilterMsg, FilterMsg, GetEventsRequestMsg } from '../proto/messages.js';
import type { OutputFormat } from './event-printer.js';
import { parseGoDuration } from './go-duration.js';

/** The option values commander hands the action (camelCase of the flag names). */
export interface GetEventsFlags {
  readonly output?: string;
  readonly color?: string;
  readonly eventTypes?: readonly string[];
  readonly includeFields?: readonly string[];
  readonly excludeFields?: readonly string[];
  readonly namespace?: readonly string[];
  readonly namespaces?: readonly string[];
  readonly process?: readonly string[];
  readonly processes?: readonly string[];
  readonly pod?: readonly string[];
  readonly pods?: readonly string[];
  readonly containers?: readonly string[];
  readonly host?: boolean;
  readonly namespaceRegex?: readonly string[];
  readonly timestamps?: boolean;
  readonly serverAddress?: string;
  readonly timeout?: string;
  readonly retries?: string;
  readonly reconnect?: boolean;
  readonly reconnectWait?: string;
  readonly maxRecvSize?: string;
}

export interface GetEventsSettings {
  readonly request: GetEventsRequestMsg;
  /** The request's filters compiled locally (stdin mode; also validates them before connecting). */
  readonly predicate: EventPredicate;
  readonly fieldFilters: FieldFilterChain;
  readonly format: OutputFormat;
  readonly compact: CompactOptions;
  /** grpc-js target, e.g. localhost:54321 or unix:///var/run/execscope/execscope.sock. */
  readonly target: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly reconnect: boolean;
  readonly reconnectWaitMs: number;
  readonly maxRecvSize: number;
}

/** Where tetra connects when neither the flag nor an info file says otherwise. */
export const DEFAULT_GETEVENTS_ADDRESS = 'localhost:54321';

/** cobra StringSlice semantics: repeatable, each value a comma-separated (CSV, "quoted" commas allowed) list. */
export function collectCsv(value: string, previous: readonly string[] | undefined): string[] {
  const out = [...(previous ?? [])];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && (field === '' || quoted)) {
      if (quoted && value[i + 1] === '"') {
        field += '"';
        i++;
      } else {
        quoted = !quoted;
      }
    } else if (c === ',' && !quoted) {
      out.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  out.push(field);
  return out;
}

function list(...parts: (readonly string[] | undefined)[]): string[] {
  return parts.flatMap((p) => p ?? []);
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, flag: string): T {
  const v = value ?? fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(`${flag} ${JSON.stringify(v)}: expected one of ${allowed.join(', ')}`);
  return v as T;
}

function integer(value: string | undefined, fallback: number, min: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`${flag} ${JSON.stringify(value)}: expected an integer ≥ ${min}`);
  return n;
}

/** Whether compact output is coloured for `--color auto|always|never` (fatih/color's rules for auto). */
export function colorEnabled(mode: 'auto' | 'always' | 'never', stdoutIsTty: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  if (mode !== 'auto') return mode === 'always';
  return stdoutIsTty && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb';
}

/**
 * Validates the flags and builds the request as tetra does: one allow filter with every given criterion
 * (ANDed), plus include/exclude field filters. Throws ConfigError or FilterError (usage errors, exit 2).
 */
export function resolveGetEventsSettings(flags: GetEventsFlags, stdoutIsTty: boolean, env: Readonly<Record<string, string | undefined>>): GetEventsSettings {
  const format = oneOf(flags.output, ['json', 'compact'] as const, 'json', '--output');
  const colorMode = oneOf(flags.color, ['auto', 'always', 'never'] as const, 'auto', '--color');

  const filter: FilterMsg = {};
  const binaries = list(flags.process, flags.processes);
  const namespaces = list(flags.namespace, flags.namespaces);
  if (flags.host === true) namespaces.push('');
  const pods = list(flags.pod, flags.pods);
  const containers = list(flags.containers);
  const namespaceRegex = list(flags.namespaceRegex);
  const eventTypes = list(flags.eventTypes).map((e) => e.trim()).filter((e) => e !== '');
  for (const e of eventTypes) {
    try {
      eventTypeNumber(e);
    } catch {
      throw new ConfigError(`--event-types ${JSON.stringify(e)}: unknown event type (e.g. PROCESS_EXEC, PROCESS_EXIT)`);
    }
  }
  if (binaries.length > 0) filter.binary_regex = binaries;
  if (namespaces.length > 0) filter.namespace = namespaces;
  if (pods.length > 0) filter.pod_regex = pods;
  if (containers.length > 0) filter.container_name_regex = containers;
  if (namespaceRegex.length > 0) filter.namespace_regex = namespaceRegex;
  if (eventTypes.length > 0) filter.event_set = eventTypes;

  const fieldFilters: FieldFilterMsg[] = [];
  const include = list(flags.includeFields).filter((f) => f.trim() !== '');
  const exclude = list(flags.excludeFields).filter((f) => f.trim() !== '');
  if (include.length > 0) fieldFilters.push({ fields: { paths: include }, action: 'INCLUDE' });
  if (exclude.length > 0) fieldFilters.push({ fields: { paths: exclude }, action: 'EXCLUDE' });

  const request: GetEventsRequestMsg = {};
  if (Object.keys(filter).length > 0) request.allow_list = [filter];
  if (fieldFilters.length > 0) request.field_filters = fieldFilters;

  const serverText = flags.serverAddress === undefined || flags.serverAddress === '' ? DEFAULT_GETEVENTS_ADDRESS : flags.serverAddress;
  const address = parseServerAddress(serverText);
  if (address === undefined) throw new ConfigError('--server-address: empty address');
  return {
    request,
    predicate: compileFilterLists(request.allow_list ?? [], []),
    fieldFilters: FieldFilterChain.compile(fieldFilters),
    format,
    compact: { color: colorEnabled(colorMode, stdoutIsTty, env), timestamps: flags.timestamps === true },
    target: address.target,
    timeoutMs: parseGoDuration(flags.timeout ?? '30s', '--timeout'),
    retries: integer(flags.retries, 1, 0, '--retries'),
    reconnect: flags.reconnect === true,
    reconnectWaitMs: parseGoDuration(flags.reconnectWait ?? '2s', '--reconnect-wait'),
    maxRecvSize: integer(flags.maxRecvSize, 10 * 1024 * 1024, 1, '--max-recv-size'),
  };
}
