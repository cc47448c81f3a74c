// receiver/src/proto/from-json.ts
// protojson parsing: a JSON value → proto-loader-shaped plain object, accepting snake_case and lowerCamelCase keys.

import { FilterError } from '../errors.js';
import { ENUMS, jsonNameOf, messageSchema, type FieldSchema } from './schema.js';

export interface ProtoJsonOptions {
  /** Reject unknown keys and unknown enum names (the agent's filter parsing); otherwise skip them (tetra's stdin). */
  readonly strict: boolean;
}

type Out = Record<string, unknown>;

function fail(path: string, msg: string): never {
  throw new FilterError(path === '' ? msg : `${path}: ${msg}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${typeof v === 'object' ? '' : String(v)}`.trim();
}

function parseInteger(v: unknown, path: string, min: number, max: number): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^-?\d+(\.0*)?([eE][+-]?\d+)?$/.test(v.trim())) n = Number(v);
  else return fail(path, `expected an integer, got ${describe(v)}`);
  if (!Number.isInteger(n) || n < min || n > max) fail(path, `${String(v)} is not an integer in [${min}, ${max}]`);
  return n;
}

function parseUint64(v: unknown, path: string): number | string {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) fail(path, `expected an unsigned integer, got ${String(v)}`);
    // 2^64 is the first double past the range; everything below it is a (possibly rounded) uint64.
    if (v >= 2 ** 64) fail(path, `${String(v)} is above the uint64 range`);
    return v;
  }
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) {
    if (BigInt(v) > 18446744073709551615n) fail(path, `${v} is above the uint64 range`);
    const n = Number(v);
    // Beyond 2^53 a Number is inexact: keep the decimal text.
    return Number.isSafeInteger(n) ? n : v.replace(/^0+(?=\d)/, '');
  }
  return fail(path, `expected an unsigned integer, got ${describe(v)}`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** RFC 3339 text → {seconds, nanos}, as protojson parses a Timestamp. */
export function parseTimestamp(v: unknown, path = ''): { seconds: number; nanos: number } {
  if (typeof v !== 'string') return fail(path, `expected an RFC 3339 timestamp, got ${describe(v)}`);
  const m = RFC3339.exec(v);
  if (m === null) return fail(path, `invalid RFC 3339 timestamp ${JSON.stringify(v)}`);
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (year === undefined || month === undefined || day === undefined || hour === undefined || minute === undefined || second === undefined) {
    return fail(path, 'invalid timestamp');
  }
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  at.setUTCHours(hour, minute, second, 0);
  const ms = at.getTime();
  const back = new Date(ms);
  if (year < 1 || month < 1 || month > 12 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    fail(path, `invalid RFC 3339 timestamp ${JSON.stringify(v)}`);
  }
  let seconds = Math.floor(ms / 1000);
  if (m[9] !== undefined) {
    const offset = (Number(m[10]) * 60 + Number(m[11])) * 60;
    seconds -= m[9] === '+' ? offset : -offset;
  }
  const nanos = m[7] !== undefined ? Number(m[7].padEnd(9, '0')) : 0;
  return { seconds, nanos };
}

function parseDuration(v: unknown, path: string): { seconds: number; nanos: number } {
  const m = typeof v === 'string' ? /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(v) : null;
  if (m === null) return fail(path, `expected a duration such as "15s", got ${describe(v)}`);
  const sign = m[1] === '-' ? -1 : 1;
  return { seconds: sign * Number(m[2]), nanos: sign * Number((m[3] ?? '').padEnd(9, '0')) };
}

function parseSingular(field: FieldSchema, v: unknown, path: string, options: ProtoJsonOptions): unknown {
  switch (field.type) {
    case 'string':
      if (typeof v !== 'string') fail(path, `expected a string, got ${describe(v)}`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') fail(path, `expected true or false, got ${describe(v)}`);
      return v;
    case 'uint32':
      return parseInteger(v, path, 0, 4294967295);
    case 'int32':
      return parseInteger(v, path, -2147483648, 2147483647);
    case 'uint64':
      return parseUint64(v, path);
    case 'enum': {
      const values = ENUMS[field.ref ?? ''] ?? {};
      if (typeof v === 'string') {
        if (Object.hasOwn(values, v)) return v;
        if (options.strict) fail(path, `unknown ${field.ref ?? 'enum'} value ${JSON.stringify(v)} (known: ${Object.keys(values).join(', ')})`);
        return undefined;
      }
      const n = parseInteger(v, path, -2147483648, 2147483647);
      return Object.entries(values).find(([, x]) => x === n)?.[0] ?? n;
    }
    case 'UInt32Value':
      return { value: parseInteger(v, path, 0, 4294967295) };
    case 'Int32Value':
      return { value: parseInteger(v, path, -2147483648, 2147483647) };
    case 'BoolValue':
      if (typeof v !== 'boolean') fail(path, `expected true or false, got ${describe(v)}`);
      return { value: v };
    case 'Timestamp':
      return parseTimestamp(v, path);
    case 'Duration':
      return parseDuration(v, path);
    case 'FieldMask':
      if (typeof v !== 'string') fail(path, `expected a comma-separated list of field paths, got ${describe(v)}`);
      return { paths: v === '' ? [] : v.split(',').map((p) => p.trim()) };
    case 'message':
      return parseProtoJson(field.ref ?? '', v, options, path);
    case 'map': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `expected an object, got ${describe(v)}`);
      const out: Record<string, string> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (typeof x !== 'string') fail(`${path}.${k}`, `expected a string, got ${describe(x)}`);
        out[k] = x;
      }
      return out;
    }
  }
}

/**
 * Parses the protojson form of `messageName` into the plain-object shape @grpc/proto-loader uses
 * (keepCase keys, wrappers as {value}, Timestamps as {seconds, nanos}). Throws FilterError naming the field
 * (its main strict use is filter lists; event decoding swallows it).
 */
export function parseProtoJson(messageName: string, value: unknown, options: ProtoJsonOptions, path = ''): Out {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(path, `expected a JSON object for ${messageName}, got ${describe(value)}`);
  }
  const schema = messageSchema(messageName);
  const out: Out = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = schema.fields.find((fd) => fd.name === key || jsonNameOf(fd.name) === key);
    const fieldPath = path === '' ? key : `${path}.${key}`;
    if (field === undefined) {
      if (options.strict) fail(fieldPath, `unknown field in ${messageName} (known: ${schema.fields.map((fd) => fd.name).join(', ')})`);
      continue;
    }
    if (Object.hasOwn(out, field.name)) fail(fieldPath, `field ${field.name} given twice`);
    if (v === null) continue;
    if (field.repeated === true) {
      if (!Array.isArray(v)) fail(fieldPath, `expected a list, got ${describe(v)}`);
      const items = (v as unknown[]).map((x, i) => parseSingular(field, x, `${fieldPath}[${i}]`, options)).filter((x) => x !== undefined);
      out[field.name] = items;
    } else {
      const parsed = parseSingular(field, v, fieldPath, options);
      if (parsed !== undefined) out[field.name] = parsed;
    }
  }
  return out;
}
