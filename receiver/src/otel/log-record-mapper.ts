// receiver/src/otel/log-record-mapper.ts
// Turns an exec or exit event into an OpenTelemetry LogRecord: event name, time, severity, body, attributes, trace.

import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { LogRecord } from '@opentelemetry/api-logs';
import type { Resource } from '@opentelemetry/resources';
import { eventNameOf, RecordAttributeBuilder } from './record-attributes.js';
import type { ProcessEvent } from './record-attributes.js';
import type { ResourceCache } from './resource-cache.js';
import { withRecordResource } from './resource-routing.js';
import type { TraceContextResolver } from './trace-context.js';
import type { LossReportEvent } from '../model/events.js';
import {
  ATTR_EXECSCOPE_LOST_KERNEL_RING,
  ATTR_EXECSCOPE_LOST_SINK,
  ATTR_EXECSCOPE_LOST_UNEXPLAINED,
  ATTR_EXECSCOPE_LOST_USER_SPACE,
  ATTR_EVENT_NAME,
  EVENT_EVENTS_LOST,
} from '../../../semconv/attributes.js';

/**
 * Renders the body of a record: the compact one-line form of the event (the signature of
 * `encodeEventCompact(event, { color: false, timestamps: false })`), or undefined for no body.
 */
export type BodyFormatter = (event: ProcessEvent) => string | undefined;

/** What the mapper needs: where Resources and trace contexts come from, and how bodies are rendered. */
export interface LogRecordMapperOptions {
  readonly resources: ResourceCache;
  readonly traces: TraceContextResolver;
  readonly formatBody: BodyFormatter;
}

/** Severity of a record: exits that failed (non-zero status or a signal) are WARN, everything else INFO. */
export function severityOf(event: ProcessEvent): SeverityNumber {
  if (event.kind === 'process_exit' && (event.status !== 0 || event.signal !== '')) return SeverityNumber.WARN;
  return SeverityNumber.INFO;
}

/** Maps model events to LogRecords whose emit context names their Resource and, if any, their span context. */
export class LogRecordMapper {
  /** One emit context per Resource, so the per-record cost is a lookup, not an allocation. */
  private readonly _contexts = new WeakMap<Resource, Context>();
  private readonly _attributes = new RecordAttributeBuilder();

  constructor(private readonly _options: LogRecordMapperOptions) {}

  map(event: ProcessEvent): LogRecord {
    let context = this._contextFor(this._options.resources.resourceFor(event.process.pod, event.nodeName));
    const traces = this._options.traces;
    const spanContext = event.kind === 'process_exec' ? traces.forExec(event.process) : traces.forExit(event.process);
    if (spanContext !== undefined) context = trace.setSpanContext(context, spanContext);

    const record: LogRecord = {
      eventName: eventNameOf(event),
      // HrTime keeps the nanoseconds; the SDK passes [sec, nsec] through untouched.
      timestamp: [event.time[0], event.time[1]],
      severityNumber: severityOf(event),
      attributes: this._attributes.build(event),
      context,
    };
    const body = this._options.formatBody(event);
    if (body !== undefined) record.body = body;
    return record;
  }

  /** The in-band announcement of lost events: a WARN record on the node's Resource. */
  mapLoss(event: LossReportEvent): LogRecord {
    const context = this._contextFor(this._options.resources.resourceFor(undefined, event.nodeName));
    const attributes: Record<string, string | number> = {
      [ATTR_EVENT_NAME]: EVENT_EVENTS_LOST,
      [ATTR_EXECSCOPE_LOST_KERNEL_RING]: event.kernelRing,
      [ATTR_EXECSCOPE_LOST_USER_SPACE]: event.userSpace,
      [ATTR_EXECSCOPE_LOST_UNEXPLAINED]: event.unexplained,
    };
    for (const [sink, n] of Object.entries(event.sinks)) attributes[ATTR_EXECSCOPE_LOST_SINK(sink)] = n;
    const total = event.kernelRing + event.userSpace + event.unexplained + Object.values(event.sinks).reduce((a, b) => a + b, 0);
    return {
      eventName: EVENT_EVENTS_LOST,
      timestamp: [event.time[0], event.time[1]],
      severityNumber: SeverityNumber.WARN,
      body: `${total} events lost since the previous report`,
      attributes,
      context,
    };
  }

  private _contextFor(resource: Resource): Context {
    let context = this._contexts.get(resource);
    if (context === undefined) {
      // ROOT_CONTEXT, never the active one: the agent's own spans must not leak into the records.
      context = withRecordResource(ROOT_CONTEXT, resource);
      this._contexts.set(resource, context);
    }
    return context;
  }
}
