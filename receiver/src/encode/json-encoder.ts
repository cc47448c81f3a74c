// receiver/src/encode/json-encoder.ts
// Tetragon's JSON event lines: Go protojson with UseProtoNames, driven by the schema in proto/schema.ts.

import type { ExecscopeEvent } from '../model/events.js';
import { compareCodePoints } from './code-point-order.js';
import { hrTimeToRfc3339 } from '../model/hr-time.js';
import type { GetEventsResponseMsg } from '../proto/messages.js';
import { ENUMS, jsonNameOf, messageSchema, type FieldSchema } from '../proto/schema.js';
import { toProtoResponse } from '../proto/to-proto.js';

export { decodeEventJson, decodeResponseJson } from './json-decoder.js';

type Obj = Readonly<Record<string, unknown>>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function enumName(field: FieldSchema, v: unknown): string | undefined {
  const values = ENUMS[field.ref ?? ''] ?? {};
  if (typeof v === 'string') return values[v] === 0 ? undefined : v;
  if (typeof v === 'number') {
    if (v === 0) return undefined;
    for (const [name, n] of Object.entries(values)) if (n === v) return name;
    return undefined;
  }
  return undefined;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * hrTimeToRfc3339 without a Date per call (the encoder's hot spot): civil date from days since the epoch
 * (Howard Hinnant's algorithm), for years 0001-9999; other values fall back to the model's formatter.
 */
function formatTimestamp(sec: number, nsec: number): string {
  if (!Number.isSafeInteger(sec) || sec < -62_135_596_800 || sec > 253_402_300_799 || !Number.isInteger(nsec) || nsec < 0 || nsec > 999_999_999) {
    return hrTimeToRfc3339([sec, nsec]);
  }
  const days = Math.floor(sec / 86_400);
  const rem = sec - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const base = `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}T${pad2(Math.floor(rem / 3600))}:${pad2(Math.floor((rem % 3600) / 60))}:${pad2(rem % 60)}`;
  if (nsec === 0) return `${base}Z`;
  const digits = String(nsec).padStart(9, '0');
  if (nsec % 1_000_000 === 0) return `${base}.${digits.slice(0, 3)}Z`;
  if (nsec % 1_000 === 0) return `${base}.${digits.slice(0, 6)}Z`;
  return `${base}.${digits}Z`;
}

function durationText(v: Obj): string {
  const seconds = Number(v['seconds'] ?? 0);
  const nanos = Number(v['nanos'] ?? 0);
  if (nanos === 0) return `${seconds}s`;
  const sign = seconds < 0 || nanos < 0 ? '-' : '';
  let frac = String(Math.abs(nanos)).padStart(9, '0');
  frac = frac.endsWith('000000') ? frac.slice(0, 3) : frac.endsWith('000') ? frac.slice(0, 6) : frac;
  return `${sign}${Math.abs(seconds)}.${frac}s`;
}

/** JSON text of one singular value, or undefined when protojson leaves it out (zero scalar). */
function encodeValue(field: FieldSchema, v: unknown): string | undefined {
  switch (field.type) {
    case 'string':
      return typeof v === 'string' && v !== '' ? JSON.stringify(v) : undefined;
    case 'bool':
      return v === true ? 'true' : undefined;
    case 'uint32':
    case 'int32':
      return Number(v) !== 0 && Number.isFinite(Number(v)) ? String(Number(v)) : undefined;
    case 'uint64':
      return v !== undefined && String(v) !== '0' && String(v) !== '' ? `"${String(v)}"` : undefined;
    case 'enum': {
      const name = enumName(field, v);
      return name === undefined ? undefined : JSON.stringify(name);
    }
    // Wrappers and messages are present whenever set, whatever their content.
    case 'UInt32Value':
    case 'Int32Value':
      return isObj(v) ? String(Number(v['value'] ?? 0)) : undefined;
    case 'BoolValue':
      return isObj(v) ? String(v['value'] === true) : undefined;
    case 'Timestamp':
      return isObj(v) ? `"${formatTimestamp(Number(v['seconds'] ?? 0), Number(v['nanos'] ?? 0))}"` : undefined;
    case 'Duration':
      return isObj(v) ? `"${durationText(v)}"` : undefined;
    case 'FieldMask':
      return isObj(v) ? JSON.stringify((Array.isArray(v['paths']) ? (v['paths'] as unknown[]) : []).map((p) => String(p).split('.').map(jsonNameOf).join('.')).join(',')) : undefined;
    case 'message':
      return isObj(v) ? encodeMessageJson(field.ref ?? '', v) : undefined;
    case 'map':
      return undefined; // handled by the caller
  }
}

/** protojson text of a message given as a proto-loader plain object (keys are proto field names). */
export function encodeMessageJson(messageName: string, msg: Obj): string {
  let out = '{';
  for (const field of messageSchema(messageName).fields) {
    const v = msg[field.name];
    if (v === undefined || v === null) continue;
    let text: string | undefined;
    if (field.type === 'map') {
      if (!isObj(v)) continue;
      const keys = Object.keys(v);
      if (keys.length === 0) continue;
      keys.sort(compareCodePoints);
      text = '{';
      for (const [i, k] of keys.entries()) text += `${i === 0 ? '' : ','}${JSON.stringify(k)}:${JSON.stringify(String(v[k] ?? ''))}`;
      text += '}';
    } else if (field.repeated === true) {
      if (!Array.isArray(v) || v.length === 0) continue;
      // Repeated elements are all printed, zero values included (protojson prints list elements as they are).
      text = `[${(v as unknown[]).map((e) => encodeValue(field, e) ?? zeroText(field)).join(',')}]`;
    } else {
      text = encodeValue(field, v);
    }
    // Field names are plain identifiers: no escaping needed.
    if (text !== undefined) out += `${out.length === 1 ? '' : ','}"${field.name}":${text}`;
  }
  return `${out}}`;
}

/** How a zero list element is printed (protojson prints every element of a list). */
function zeroText(field: FieldSchema): string {
  switch (field.type) {
    case 'string':
      return '""';
    case 'bool':
      return 'false';
    case 'uint64':
      return '"0"';
    case 'enum': {
      const values = ENUMS[field.ref ?? ''] ?? {};
      const zero = Object.entries(values).find(([, n]) => n === 0)?.[0];
      return JSON.stringify(zero ?? '0');
    }
    case 'message':
      return '{}';
    default:
      return '0';
  }
}

/** One JSON line (no newline) of a GetEventsResponse plain object, e.g. one received over gRPC or field-filtered. */
export function encodeResponseJson(response: GetEventsResponseMsg): string {
  return encodeMessageJson('GetEventsResponse', response as Obj);
}

/**
 * One JSON line (no trailing newline) for an event, byte-compatible with Tetragon's export file and
 * `tetra getevents -o json`: proto field names, declaration order, zero scalars left out, wrappers always present.
 */
export function encodeEventJson(event: ExecscopeEvent): string {
  return encodeResponseJson(toProtoResponse(event));
}
