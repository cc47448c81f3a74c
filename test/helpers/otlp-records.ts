// test/helpers/otlp-records.ts
// Flattens an OTLP logs export request (decoded protobuf or OTLP/JSON) into records with typed values.

/** An attribute or body value, with the OTLP type it was sent as. */
export type OtlpValue =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'int'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'bytes'; readonly value: Buffer }
  | { readonly type: 'array'; readonly value: readonly OtlpValue[] }
  | { readonly type: 'kvlist'; readonly value: Readonly<Record<string, OtlpValue>> }
  | { readonly type: 'empty' };

export type OtlpAttributes = Readonly<Record<string, OtlpValue>>;

export interface ReceivedResource {
  readonly attributes: OtlpAttributes;
  readonly droppedAttributesCount: number;
}

export interface ReceivedScope {
  readonly name: string;
  readonly version: string;
  readonly attributes: OtlpAttributes;
}

/** One log record as received, with the Resource and scope it was sent under. */
export interface ReceivedLogRecord {
  readonly resource: ReceivedResource;
  readonly scope: ReceivedScope;
  /** Which request (0-based, in arrival order) and which ResourceLogs within it carried the record. */
  readonly requestIndex: number;
  readonly resourceLogsIndex: number;
  readonly timeUnixNano: bigint;
  readonly observedTimeUnixNano: bigint;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: OtlpValue | undefined;
  readonly attributes: OtlpAttributes;
  readonly droppedAttributesCount: number;
  /** Low 8 bits: W3C trace flags. */
  readonly flags: number;
  /** Lowercase hex; "" when absent. */
  readonly traceId: string;
  readonly spanId: string;
  /** "" when absent. */
  readonly eventName: string;
}

export interface ReceivedResourceLogs {
  readonly resource: ReceivedResource;
  readonly scopeLogs: readonly { readonly scope: ReceivedScope; readonly records: readonly ReceivedLogRecord[] }[];
}

/** One Export call. `metadata` holds gRPC metadata (empty for OTLP/JSON files). */
export interface ReceivedRequest {
  readonly index: number;
  readonly metadata: Readonly<Record<string, readonly string[]>>;
  readonly resourceLogs: readonly ReceivedResourceLogs[];
  readonly records: readonly ReceivedLogRecord[];
}

type Loose = Record<string, unknown>;

function obj(value: unknown): Loose {
  return typeof value === 'object' && value !== null ? (value as Loose) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function int(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'string' && value !== '') return BigInt(value);
  return 0n;
}

/** OTLP/JSON sends ids as hex strings, protobuf as bytes. */
function hex(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'string') return value.toLowerCase();
  return '';
}

/** Decodes an AnyValue from either camelCase form (proto-loader without keepCase, or OTLP/JSON). */
export function toOtlpValue(raw: unknown): OtlpValue {
  const v = obj(raw);
  if ('stringValue' in v && v.stringValue !== undefined) return { type: 'string', value: String(v.stringValue) };
  if ('intValue' in v && v.intValue !== undefined) return { type: 'int', value: int(v.intValue) };
  if ('doubleValue' in v && v.doubleValue !== undefined) return { type: 'double', value: Number(v.doubleValue) };
  if ('boolValue' in v && v.boolValue !== undefined) return { type: 'bool', value: Boolean(v.boolValue) };
  if ('bytesValue' in v && v.bytesValue !== undefined) {
    const b = v.bytesValue;
    return { type: 'bytes', value: Buffer.isBuffer(b) ? b : Buffer.from(String(b), 'base64') };
  }
  if ('arrayValue' in v && v.arrayValue !== undefined) {
    return { type: 'array', value: list(obj(v.arrayValue).values).map(toOtlpValue) };
  }
  if ('kvlistValue' in v && v.kvlistValue !== undefined) {
    return { type: 'kvlist', value: toAttributes(obj(v.kvlistValue).values) };
  }
  return { type: 'empty' };
}

export function toAttributes(raw: unknown): OtlpAttributes {
  const out: Record<string, OtlpValue> = {};
  for (const kv of list(raw)) {
    const entry = obj(kv);
    out[String(entry.key)] = toOtlpValue(entry.value);
  }
  return out;
}

/** The JS value of a typed value: bigint for ints, arrays and objects for the composite types. */
export function plainValue(value: OtlpValue | undefined): unknown {
  if (value === undefined) return undefined;
  switch (value.type) {
    case 'array':
      return value.value.map(plainValue);
    case 'kvlist':
      return Object.fromEntries(Object.entries(value.value).map(([k, v]) => [k, plainValue(v)]));
    case 'empty':
      return undefined;
    default:
      return value.value;
  }
}

/** Every attribute as a plain value (see plainValue). */
export function plainAttributes(attributes: OtlpAttributes): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, plainValue(v)]));
}

/**
 * Flattens an ExportLogsServiceRequest: camelCase field names as proto-loader (keepCase false) and the
 * OTLP/JSON encoding (the Collector's file exporter) both use.
 */
export function flattenExportRequest(
  raw: unknown,
  index: number,
  metadata: Readonly<Record<string, readonly string[]>> = {},
): ReceivedRequest {
  const resourceLogs: ReceivedResourceLogs[] = [];
  const records: ReceivedLogRecord[] = [];
  list(obj(raw).resourceLogs).forEach((rlRaw, resourceLogsIndex) => {
    const rl = obj(rlRaw);
    const resource: ReceivedResource = {
      attributes: toAttributes(obj(rl.resource).attributes),
      droppedAttributesCount: Number(obj(rl.resource).droppedAttributesCount ?? 0),
    };
    const scopeLogs = list(rl.scopeLogs).map((slRaw) => {
      const sl = obj(slRaw);
      const scopeRaw = obj(sl.scope);
      const scope: ReceivedScope = {
        name: String(scopeRaw.name ?? ''),
        version: String(scopeRaw.version ?? ''),
        attributes: toAttributes(scopeRaw.attributes),
      };
      const scoped = list(sl.logRecords).map((lrRaw): ReceivedLogRecord => {
        const lr = obj(lrRaw);
        return {
          resource,
          scope,
          requestIndex: index,
          resourceLogsIndex,
          timeUnixNano: int(lr.timeUnixNano),
          observedTimeUnixNano: int(lr.observedTimeUnixNano),
          severityNumber: Number(lr.severityNumber ?? 0),
          severityText: String(lr.severityText ?? ''),
          body: lr.body === undefined || lr.body === null ? undefined : toOtlpValue(lr.body),
          attributes: toAttributes(lr.attributes),
          droppedAttributesCount: Number(lr.droppedAttributesCount ?? 0),
          flags: Number(lr.flags ?? 0),
          traceId: hex(lr.traceId),
          spanId: hex(lr.spanId),
          eventName: String(lr.eventName ?? ''),
        };
      });
      records.push(...scoped);
      return { scope, records: scoped };
    });
    resourceLogs.push({ resource, scopeLogs });
  });
  return { index, metadata, resourceLogs, records };
}
