// receiver/src/filter/field-filter.ts
// Tetragon's FieldFilter: include or exclude field paths of the event message (process.binary, parent.pod, …).

import { FilterError } from '../errors.js';
import { parseProtoJson } from '../proto/from-json.js';
import type { FieldFilterMsg, GetEventsResponseMsg } from '../proto/messages.js';
import { EVENT_TYPE_VALUES, MESSAGES, jsonNameOf, type MessageSchema } from '../proto/schema.js';
import { eventTypeNumber } from './event-filter.js';
import { parseJsonStream } from './json-stream.js';

/** A field mask as a tree: an empty node selects the whole field. */
interface Mask {
  readonly [field: string]: Mask;
}

/** The oneof members of GetEventsResponse we produce, with their message schema and EventType number. */
const EVENT_MESSAGES: readonly { readonly key: 'process_exec' | 'process_exit' | 'rate_limit_info'; readonly type: number; readonly schema: string }[] = [
  { key: 'process_exec', type: EVENT_TYPE_VALUES['PROCESS_EXEC'] ?? 1, schema: 'ProcessExec' },
  { key: 'process_exit', type: EVENT_TYPE_VALUES['PROCESS_EXIT'] ?? 5, schema: 'ProcessExit' },
  { key: 'rate_limit_info', type: EVENT_TYPE_VALUES['RATE_LIMIT_INFO'] ?? 40001, schema: 'RateLimitInfo' },
];

/** Resolves one dotted path against a message (proto or lowerCamel names) to proto names; undefined if invalid. */
function resolvePath(schema: MessageSchema, segments: readonly string[]): string[] | undefined {
  const [head, ...rest] = segments;
  if (head === undefined || head === '') return undefined;
  const field = schema.fields.find((f) => f.name === head || jsonNameOf(f.name) === head);
  if (field === undefined) {
    // Fields Tetragon has but we never fill: accept the path, it just never selects anything.
    const absent = schema.absent?.find((a) => a === head || jsonNameOf(a) === head);
    return absent !== undefined ? [absent, ...rest] : undefined;
  }
  if (rest.length === 0) return [field.name];
  if (field.type === 'map') return rest.length === 1 ? [field.name, ...rest] : undefined;
  if (field.type !== 'message') return undefined;
  const sub = MESSAGES[field.ref ?? ''];
  if (sub === undefined) return undefined;
  const tail = resolvePath(sub, rest);
  return tail === undefined ? undefined : [field.name, ...tail];
}

interface MutableMask {
  [field: string]: MutableMask;
}

function addPath(mask: MutableMask, segments: readonly string[]): void {
  let node = mask;
  for (const [i, segment] of segments.entries()) {
    if (i === segments.length - 1) {
      // The whole field is selected, which subsumes any deeper paths given before.
      node[segment] = {};
      return;
    }
    const existing = node[segment];
    // A shorter path already selected the whole field.
    if (existing !== undefined && Object.keys(existing).length === 0) return;
    const child: MutableMask = existing ?? {};
    node[segment] = child;
    node = child;
  }
}

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function eachTree(v: unknown, visit: (t: Tree) => void): void {
  if (Array.isArray(v)) {
    for (const item of v) if (isTree(item)) visit(item);
  } else if (isTree(v)) {
    visit(v);
  }
}

/** Keeps only the masked fields (recursively; list elements and map keys included). */
function keepOnly(tree: Tree, mask: Mask): void {
  for (const key of Object.keys(tree)) {
    const sub = mask[key];
    if (sub === undefined) delete tree[key];
    else if (Object.keys(sub).length > 0) eachTree(tree[key], (t) => keepOnly(t, sub));
  }
}

/** Removes the masked fields. */
function remove(tree: Tree, mask: Mask): void {
  for (const [key, sub] of Object.entries(mask)) {
    if (!Object.hasOwn(tree, key)) continue;
    if (Object.keys(sub).length === 0) delete tree[key];
    else eachTree(tree[key], (t) => remove(t, sub));
  }
}

/** One compiled field filter. */
export interface FieldFilter {
  /** Filters the event message of `response` in place (node_name, time, … are always kept). */
  apply(response: GetEventsResponseMsg): void;
}

/**
 * Compiles a FieldFilter message. Paths are checked against the event messages execscope produces unless the
 * filter's event_set only names event types we never produce. Throws FilterError for invalid paths or actions.
 */
export function compileFieldFilter(msg: FieldFilterMsg): FieldFilter {
  const action = msg.action === undefined || msg.action === 'INCLUDE' || msg.action === 0 ? 'include' : msg.action === 'EXCLUDE' || msg.action === 1 ? 'exclude' : undefined;
  if (action === undefined) throw new FilterError(`invalid field filter action ${JSON.stringify(msg.action)} (INCLUDE or EXCLUDE)`);
  const eventSet = new Set((msg.event_set ?? []).map(eventTypeNumber));
  const invert = msg.invert_event_set?.value ?? false;
  const appliesTo = (type: number): boolean => eventSet.size === 0 || eventSet.has(type) !== invert;
  const relevant = EVENT_MESSAGES.filter((m) => appliesTo(m.type));
  const mask: MutableMask = {};
  for (const raw of msg.fields?.paths ?? []) {
    const path = raw.trim();
    if (path === '') continue;
    const segments = path.split('.');
    let resolved: string[] | undefined;
    for (const m of relevant) {
      resolved = resolvePath(MESSAGES[m.schema] ?? { name: m.schema, fields: [] }, segments);
      if (resolved !== undefined) break;
    }
    if (resolved === undefined && relevant.length > 0) {
      throw new FilterError(`unknown field path ${JSON.stringify(path)} in field filter (fields of ${relevant.map((m) => m.schema).join(', ')} such as process.binary, parent.pod.name)`);
    }
    addPath(mask, resolved ?? segments);
  }
  const apply = action === 'include' ? keepOnly : remove;
  return {
    apply(response) {
      for (const m of EVENT_MESSAGES) {
        const message = response[m.key];
        if (message === undefined) continue;
        // An empty mask leaves the event whole, for INCLUDE as for EXCLUDE (Tetragon's fieldmask semantics).
        if (appliesTo(m.type) && Object.keys(mask).length > 0) apply(message as Tree, mask);
        return;
      }
    },
  };
}

/** Field filters applied in order. */
export class FieldFilterChain {
  private constructor(private readonly _filters: readonly FieldFilter[]) {}

  /** Compiles every filter; throws FilterError naming the position of a bad one. */
  static compile(msgs: readonly FieldFilterMsg[]): FieldFilterChain {
    return new FieldFilterChain(
      msgs.map((m, i) => {
        try {
          return compileFieldFilter(m);
        } catch (error: unknown) {
          if (error instanceof FilterError) throw new FilterError(`field_filters[${i}]: ${error.message}`, { cause: error });
          throw error;
        }
      }),
    );
  }

  /** True when there is nothing to apply (callers can then share one encoding between consumers). */
  get empty(): boolean {
    return this._filters.length === 0;
  }

  /** Applies the filters in order, in place; returns the same object. */
  apply(response: GetEventsResponseMsg): GetEventsResponseMsg {
    for (const f of this._filters) f.apply(response);
    return response;
  }
}

/**
 * Parses --field-filters text: JSON FieldFilter objects, one per line, `fields` a comma-separated path list in
 * snake_case or lowerCamelCase. Throws FilterError naming the line's filter and what is wrong.
 */
export function parseFieldFilterList(text: string, what: string): FieldFilterMsg[] {
  if (text.trim() === '') return [];
  return parseJsonStream(text, what).map((value, i) => {
    try {
      const msg = parseProtoJson('FieldFilter', value, { strict: true }) as FieldFilterMsg;
      compileFieldFilter(msg);
      return msg;
    } catch (error: unknown) {
      if (error instanceof FilterError) throw new FilterError(`${what}, filter ${i + 1}: ${error.message}`, { cause: error });
      throw error;
    }
  });
}
