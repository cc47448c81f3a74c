// receiver/src/otel/trace-context.ts
// Trace context from TRACEPARENT/TRACESTATE in an exec'd image's environment, remembered for its exit.

import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { SpanContext, TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Process } from '../model/process.js';

/**
 * Normalizes a propagator key to an environment variable name, as the OpenTelemetry environment carrier
 * spec says: letters uppercased, anything outside [A-Za-z0-9_] becomes `_`, a leading digit gets a `_`.
 */
export function normalizeEnvCarrierKey(key: string): string {
  const name = key.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  if (name === '') return '_';
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** The captured variables of one process, keyed by their environment names. */
type EnvCarrier = Readonly<Record<string, string | undefined>>;

/** A TextMapGetter over another process's environment (the core EnvironmentGetter reads only our own). */
export const envCarrierGetter: TextMapGetter<EnvCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[normalizeEnvCarrierKey(key)],
};

/** How invalid values are reported and how many exec contexts are kept for exits. */
export interface TraceContextResolverOptions {
  /** Called once per process whose TRACEPARENT is present but invalid. */
  readonly onInvalid: (traceParent: string) => void;
  /** Processes whose exec context is remembered until their exit; the oldest are forgotten first. */
  readonly maxTracked?: number;
}

/** Default number of traced processes remembered between exec and exit. */
export const DEFAULT_MAX_TRACKED_PROCESSES = 65_536;

/**
 * Extracts a W3C span context from a process's captured TRACEPARENT, and hands the exec's context to the
 * exit of the same process (by exec_id), so both records link to the trace that spawned it.
 */
export class TraceContextResolver {
  private readonly _propagator = new W3CTraceContextPropagator();
  /** exec_id → the exec's span context, or null when its TRACEPARENT was invalid (already counted). */
  private readonly _byExecId = new Map<string, SpanContext | null>();
  private readonly _max: number;

  constructor(private readonly _options: TraceContextResolverOptions) {
    this._max = _options.maxTracked ?? DEFAULT_MAX_TRACKED_PROCESSES;
  }

  /** The span context of an exec, if its TRACEPARENT is valid; remembered for the process's exit. */
  forExec(process: Process): SpanContext | undefined {
    if (!hasValue(process.traceParent)) return undefined;
    const spanContext = this._extract(process);
    this._remember(process.execId, spanContext ?? null);
    return spanContext;
  }

  /** The span context of an exit: the one its exec had, else its own captured TRACEPARENT. */
  forExit(process: Process): SpanContext | undefined {
    const known = this._byExecId.get(process.execId);
    if (known !== undefined) {
      this._byExecId.delete(process.execId);
      return known ?? undefined;
    }
    if (!hasValue(process.traceParent)) return undefined;
    return this._extract(process);
  }

  /** Number of processes currently remembered. */
  get size(): number {
    return this._byExecId.size;
  }

  private _extract(process: Process): SpanContext | undefined {
    const carrier: EnvCarrier = { TRACEPARENT: process.traceParent, TRACESTATE: process.traceState };
    const extracted = this._propagator.extract(ROOT_CONTEXT, carrier, envCarrierGetter);
    const spanContext = trace.getSpanContext(extracted);
    if (spanContext === undefined) this._options.onInvalid(process.traceParent ?? '');
    return spanContext;
  }

  private _remember(execId: string, value: SpanContext | null): void {
    if (this._byExecId.size >= this._max) {
      // Map iteration order is insertion order: the first key is the oldest exec.
      const oldest = this._byExecId.keys().next();
      if (oldest.done !== true) this._byExecId.delete(oldest.value);
    }
    this._byExecId.set(execId, value);
  }
}

/** An empty or blank TRACEPARENT means "no context" (e.g. `TRACEPARENT= cmd`), not an invalid one. */
function hasValue(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}
