// receiver/src/otel/resource-routing.ts
// Lets one LoggerProvider export records under many Resources: one ResourceLogs per pod and container.

// A LoggerProvider has a single Resource, and the OTLP serializer groups records into ResourceLogs by the
// identity of `record.resource`. So the emit context names the record's Resource, a processor placed before
// the batch processor remembers it per record, and an exporter wrapper hands the serializer copies of the
// records that carry that Resource. Records without one keep the provider's Resource.

import { createContextKey } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';

const RESOURCE_KEY = createContextKey('execscope.otel.record-resource');

/** Wrapper so the processor can tell our value from anything else stored in a context. */
class ResourceRoute {
  constructor(readonly resource: Resource) {}
}

/** Returns `context` with `resource` named as the Resource of records emitted with it. */
export function withRecordResource(context: Context, resource: Resource): Context {
  return context.setValue(RESOURCE_KEY, new ResourceRoute(resource));
}

/** Remembers, per emitted record, the Resource its emit context names. Must come before the batch processor. */
export class ResourceRoutingProcessor implements LogRecordProcessor {
  private readonly _routes = new WeakMap<ReadableLogRecord, Resource>();

  onEmit(record: ReadWriteLogRecord, context?: Context): void {
    const route = context?.getValue(RESOURCE_KEY);
    if (route instanceof ResourceRoute) this._routes.set(record, route.resource);
  }

  /** The Resource named for a record when it was emitted. */
  resourceOf(record: ReadableLogRecord): Resource | undefined {
    return this._routes.get(record);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Hands the next exporter records that carry their routed Resource. */
export class ResourceRoutingExporter implements LogRecordExporter {
  constructor(
    private readonly _next: LogRecordExporter,
    private readonly _routes: ResourceRoutingProcessor,
  ) {}

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    const routed = new Array<ReadableLogRecord>(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as ReadableLogRecord;
      const resource = this._routes.resourceOf(record);
      routed[i] = resource === undefined ? record : withResource(record, resource);
    }
    this._next.export(routed, resultCallback);
  }

  forceFlush(): Promise<void> {
    return this._next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this._next.shutdown();
  }
}

type MutableLogRecord = { -readonly [K in keyof ReadableLogRecord]: ReadableLogRecord[K] };

/**
 * A plain copy of a record with another Resource. The SDK's LogRecordImpl keeps its fields behind prototype
 * getters, so a spread would copy nothing: every field is copied by name.
 */
function withResource(record: ReadableLogRecord, resource: Resource): ReadableLogRecord {
  const copy: MutableLogRecord = {
    hrTime: record.hrTime,
    hrTimeObserved: record.hrTimeObserved,
    resource,
    instrumentationScope: record.instrumentationScope,
    attributes: record.attributes,
    droppedAttributesCount: record.droppedAttributesCount,
  };
  if (record.spanContext !== undefined) copy.spanContext = record.spanContext;
  if (record.severityNumber !== undefined) copy.severityNumber = record.severityNumber;
  if (record.severityText !== undefined) copy.severityText = record.severityText;
  if (record.body !== undefined) copy.body = record.body;
  if (record.eventName !== undefined) copy.eventName = record.eventName;
  return copy;
}
