// receiver/src/otel/record-attributes.ts
// Log record attributes of an exec or exit event, one extractor per row of semconv's mapping table.

import type { LogAttributes } from '@opentelemetry/api-logs';
import {
  ATTR_ERROR_TYPE,
  ATTR_EVENT_NAME,
  ATTR_EXECSCOPE_AUID,
  ATTR_EXECSCOPE_EXEC_ID,
  ATTR_EXECSCOPE_FLAGS,
  ATTR_EXECSCOPE_PARENT_EXEC_ID,
  ATTR_EXECSCOPE_SIGNAL,
  ATTR_PROCESS_ARGS_COUNT,
  ATTR_PROCESS_COMMAND_ARGS,
  ATTR_PROCESS_CREATION_TIME,
  ATTR_PROCESS_ENVIRONMENT_VARIABLE,
  ATTR_PROCESS_EXECUTABLE_NAME,
  ATTR_PROCESS_EXECUTABLE_PATH,
  ATTR_PROCESS_EXIT_CODE,
  ATTR_PROCESS_EXIT_TIME,
  ATTR_PROCESS_PARENT_PID,
  ATTR_PROCESS_PID,
  ATTR_PROCESS_USER_ID,
  ATTR_PROCESS_VPID,
  ATTR_PROCESS_WORKING_DIRECTORY,
  ATTR_THREAD_ID,
  EVENT_PROCESS_EXEC,
  EVENT_PROCESS_EXIT,
} from '../../../semconv/attributes.js';
import { RECORD_ATTRIBUTE_MAPPING } from '../../../semconv/mapping.js';
import type { AttributeValueType, RecordAttributeRow } from '../../../semconv/mapping.js';
import type { ProcessExecEvent, ProcessExitEvent } from '../model/events.js';
import { Rfc3339Formatter } from './rfc3339-formatter.js';

/** The events that become log records. */
export type ProcessEvent = ProcessExecEvent | ProcessExitEvent;

type ValueOf<T extends AttributeValueType> = T extends 'int' ? number : T extends 'string' ? string : readonly string[];

/** Per-builder state the extractors may use (cached time formatting). */
interface ExtractContext {
  readonly creationTime: Rfc3339Formatter;
  readonly exitTime: Rfc3339Formatter;
}

/** A plain row yields one value or nothing; a template row yields a name → value map. */
type ExtractorFor<R extends RecordAttributeRow> = R extends { readonly template: true }
  ? (event: ProcessEvent, context: ExtractContext) => Readonly<Record<string, ValueOf<R['type']>>> | undefined
  : (event: ProcessEvent, context: ExtractContext) => ValueOf<R['type']> | undefined;

type RecordExtractors = { readonly [R in RecordAttributeRow as R['attribute']]: ExtractorFor<R> };

/** Event name of each event kind. */
export function eventNameOf(event: ProcessEvent): typeof EVENT_PROCESS_EXEC | typeof EVENT_PROCESS_EXIT {
  return event.kind === 'process_exec' ? EVENT_PROCESS_EXEC : EVENT_PROCESS_EXIT;
}

function exitOf(event: ProcessEvent): ProcessExitEvent | undefined {
  return event.kind === 'process_exit' ? event : undefined;
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

function nonEmpty(value: string): string | undefined {
  return value === '' ? undefined : value;
}

/** How each mapped attribute is read from an event; the compiler holds this to the mapping table. */
const EXTRACTORS = {
  [ATTR_PROCESS_PID]: (e) => e.process.pid,
  [ATTR_PROCESS_PARENT_PID]: (e) => e.process.ppid,
  [ATTR_PROCESS_VPID]: (e) => e.process.nspid,
  [ATTR_THREAD_ID]: (e) => e.process.tid,
  [ATTR_PROCESS_EXECUTABLE_PATH]: (e) => e.process.binary,
  [ATTR_PROCESS_EXECUTABLE_NAME]: (e) => basename(e.process.binary),
  // The faithful argv, not Tetragon's re-quoted `arguments` string.
  [ATTR_PROCESS_COMMAND_ARGS]: (e) => e.process.argv,
  [ATTR_PROCESS_ARGS_COUNT]: (e) => e.process.argv.length,
  [ATTR_PROCESS_WORKING_DIRECTORY]: (e) => nonEmpty(e.process.cwd),
  [ATTR_PROCESS_USER_ID]: (e) => e.process.uid,
  [ATTR_PROCESS_CREATION_TIME]: (e, c) => c.creationTime.format(e.process.startTime),
  [ATTR_PROCESS_EXIT_CODE]: (e) => exitOf(e)?.status,
  [ATTR_PROCESS_EXIT_TIME]: (e, c) => {
    const exit = exitOf(e);
    return exit === undefined ? undefined : c.exitTime.format(exit.exitTime);
  },
  'process.environment_variable.<NAME>': (e) => {
    const vars = e.process.environmentVariables;
    if (vars === undefined || vars.length === 0) return undefined;
    const out: Record<string, string> = {};
    for (const { key, value } of vars) out[ATTR_PROCESS_ENVIRONMENT_VARIABLE(key)] = value;
    return out;
  },
  [ATTR_ERROR_TYPE]: (e) => {
    const exit = exitOf(e);
    if (exit === undefined) return undefined;
    if (exit.signal !== '') return exit.signal;
    return exit.status !== 0 ? String(exit.status) : undefined;
  },
  [ATTR_EVENT_NAME]: (e) => eventNameOf(e),
  [ATTR_EXECSCOPE_EXEC_ID]: (e) => e.process.execId,
  [ATTR_EXECSCOPE_PARENT_EXEC_ID]: (e) => nonEmpty(e.process.parentExecId),
  [ATTR_EXECSCOPE_AUID]: (e) => e.process.auid,
  [ATTR_EXECSCOPE_FLAGS]: (e) => nonEmpty(e.process.flags),
  [ATTR_EXECSCOPE_SIGNAL]: (e) => nonEmpty(exitOf(e)?.signal ?? ''),
} as const satisfies RecordExtractors;

type AnyExtractor = (event: ProcessEvent, context: ExtractContext) => unknown;

/** Rows in table order, each with its extractor, so the hot loop does no lookups by name. */
const PLAN: readonly { readonly name: string; readonly template: boolean; readonly extract: AnyExtractor }[] =
  RECORD_ATTRIBUTE_MAPPING.map((row) => ({
    name: row.attribute,
    template: 'template' in row,
    extract: EXTRACTORS[row.attribute] as AnyExtractor,
  }));

/** Builds the log record attributes of events, in mapping-table order. One instance per sink. */
export class RecordAttributeBuilder {
  private readonly _context: ExtractContext = { creationTime: new Rfc3339Formatter(), exitTime: new Rfc3339Formatter() };

  build(event: ProcessEvent): LogAttributes {
    const out: Record<string, LogAttributes[string]> = {};
    for (const step of PLAN) {
      const value = step.extract(event, this._context);
      if (value === undefined) continue;
      if (step.template) Object.assign(out, value);
      else out[step.name] = value as LogAttributes[string];
    }
    return out;
  }
}

/** The log record attributes of one event (a fresh builder: for tests and one-off use). */
export function recordAttributesOf(event: ProcessEvent): LogAttributes {
  return new RecordAttributeBuilder().build(event);
}
