// receiver/src/filter/event-filter.ts
// Tetragon's Filter message compiled to a predicate (fields ANDed), and allow/deny lists combined from them.

import { FilterError } from '../errors.js';
import type { ExecscopeEvent } from '../model/events.js';
import { eventTypeOf, isProcessEvent } from '../model/events.js';
import type { Process } from '../model/process.js';
import type { FilterMsg } from '../proto/messages.js';
import { EVENT_TYPE_VALUES } from '../proto/schema.js';
import { parseLabelSelector } from './label-selector.js';
import { compileRe2List } from './re2.js';

export type EventPredicate = (event: ExecscopeEvent) => boolean;

/** Children a pid_set filter remembers; Tetragon grows without bound, we stop at a generous cap. */
const PID_SET_CHILD_LIMIT = 65_536;

function processOf(event: ExecscopeEvent): Process | undefined {
  return isProcessEvent(event) ? event.process : undefined;
}

function parentOf(event: ExecscopeEvent): Process | undefined {
  return isProcessEvent(event) ? event.parent : undefined;
}

function maybeHealthCheck(p: Process | undefined): boolean {
  return p?.pod?.container?.maybeExecProbe === true;
}

/** The EventType number of an event type given by name or number; throws for unknown names. */
export function eventTypeNumber(value: string | number): number {
  if (typeof value === 'number') return value;
  const n = EVENT_TYPE_VALUES[value];
  if (n === undefined) throw new FilterError(`unknown event type ${JSON.stringify(value)} (known: ${Object.keys(EVENT_TYPE_VALUES).join(', ')})`);
  return n;
}

/** The EventType number of a model event. */
export function eventTypeNumberOf(event: ExecscopeEvent): number {
  return EVENT_TYPE_VALUES[eventTypeOf(event)] ?? 0;
}

function nonEmpty<T>(list: readonly T[] | undefined): list is readonly T[] {
  return list !== undefined && list.length > 0;
}

function regexField(patterns: readonly string[] | undefined, name: string, pick: (e: ExecscopeEvent) => string | undefined, out: EventPredicate[]): void {
  if (!nonEmpty(patterns)) return;
  const test = compileRe2List(patterns, name);
  out.push((e) => {
    const value = pick(e);
    return value !== undefined && test(value);
  });
}

function pidSetPredicate(pidSet: readonly number[]): EventPredicate {
  const roots = new Set(pidSet);
  const children = new Set<number>();
  const member = (pid: number): boolean => roots.has(pid) || children.has(pid);
  return (e) => {
    const process = processOf(e);
    if (process === undefined) return false;
    if (member(process.pid)) return true;
    const parent = parentOf(e);
    if (parent === undefined || !member(parent.pid)) return false;
    // Remember the child so that its own descendants match later.
    if (children.size >= PID_SET_CHILD_LIMIT) {
      const oldest = children.values().next();
      if (oldest.done !== true) children.delete(oldest.value);
    }
    children.add(process.pid);
    return true;
  };
}

/**
 * Compiles one Filter. Every set field must match (AND); within a repeated field any value may match (OR).
 * Stateful for pid_set (children are learned from parent pids), so compile once per stream or export.
 * Throws FilterError for invalid regexes, label selectors, event types and unsupported fields.
 */
export function compileFilter(filter: FilterMsg): EventPredicate {
  const checks: EventPredicate[] = [];
  if (nonEmpty(filter.cel_expression)) {
    throw new FilterError('cel_expression filters are not supported by execscope; use the regex, namespace, label and pid filters');
  }
  if (filter.capabilities !== undefined) {
    throw new FilterError('capabilities filters are not supported: execscope does not collect process capabilities');
  }
  // Same order as Tetragon's filter list, which matters for what pid_set learns (evaluation short-circuits).
  regexField(filter.binary_regex, 'binary_regex', (e) => processOf(e)?.binary, checks);
  if (filter.health_check !== undefined) {
    const want = filter.health_check.value ?? false;
    checks.push((e) => {
      const process = processOf(e);
      if (process === undefined) return false;
      const probe = maybeHealthCheck(process) || maybeHealthCheck(parentOf(e));
      return want ? probe : !probe;
    });
  }
  if (nonEmpty(filter.namespace)) {
    const namespaces = filter.namespace;
    checks.push((e) => {
      const process = processOf(e);
      if (process === undefined) return false;
      // "" stands for processes without a pod (the host).
      return namespaces.some((ns) => (process.pod === undefined ? ns === '' : process.pod.namespace === ns));
    });
  }
  if (nonEmpty(filter.pid)) {
    const pids = new Set(filter.pid);
    checks.push((e) => {
      const process = processOf(e);
      return process !== undefined && pids.has(process.pid);
    });
  }
  if (nonEmpty(filter.pid_set)) checks.push(pidSetPredicate(filter.pid_set));
  if (nonEmpty(filter.event_set)) {
    const types = new Set(filter.event_set.map(eventTypeNumber));
    checks.push((e) => types.has(eventTypeNumberOf(e)));
  }
  regexField(filter.arguments_regex, 'arguments_regex', (e) => processOf(e)?.arguments, checks);
  if (nonEmpty(filter.labels)) {
    const selectors = filter.labels.map(parseLabelSelector);
    checks.push((e) => {
      const pod = processOf(e)?.pod;
      return pod !== undefined && selectors.some((s) => s.matches(pod.podLabels));
    });
  }
  regexField(filter.pod_regex, 'pod_regex', (e) => processOf(e)?.pod?.name, checks);
  if (nonEmpty(filter.policy_names)) {
    // Only tracing-policy events carry a policy name; exec and exit never match.
    checks.push(() => false);
  }
  regexField(filter.parent_binary_regex, 'parent_binary_regex', (e) => parentOf(e)?.binary, checks);
  regexField(filter.parent_arguments_regex, 'parent_arguments_regex', (e) => parentOf(e)?.arguments, checks);
  regexField(filter.container_id, 'container_id', (e) => processOf(e)?.docker, checks);
  if (filter.in_init_tree !== undefined) {
    const want = filter.in_init_tree.value ?? false;
    checks.push((e) => {
      const process = processOf(e);
      return process !== undefined && (process.inInitTree ?? false) === want;
    });
  }
  if (nonEmpty(filter.ancestor_binary_regex)) {
    const test = compileRe2List(filter.ancestor_binary_regex, 'ancestor_binary_regex');
    checks.push((e) => isProcessEvent(e) && (e.ancestors ?? []).some((a) => test(a.binary)));
  }
  regexField(filter.container_name_regex, 'container_name_regex', (e) => processOf(e)?.pod?.container?.name, checks);
  regexField(filter.namespace_regex, 'namespace_regex', (e) => processOf(e)?.pod?.namespace, checks);
  return (e) => checks.every((check) => check(e));
}

/**
 * Allow and deny lists: an event passes when it matches at least one allow filter (or the allow list is empty)
 * and none of the deny filters. Throws FilterError naming the list and position of an invalid filter.
 */
export function compileFilterLists(allow: readonly FilterMsg[], deny: readonly FilterMsg[]): EventPredicate {
  const compileAll = (list: readonly FilterMsg[], name: string): EventPredicate[] =>
    list.map((f, i) => {
      try {
        return compileFilter(f);
      } catch (error: unknown) {
        if (error instanceof FilterError) throw new FilterError(`${name}[${i}]: ${error.message}`, { cause: error });
        throw error;
      }
    });
  const allowed = compileAll(allow, 'allow_list');
  const denied = compileAll(deny, 'deny_list');
  if (allowed.length === 0 && denied.length === 0) return () => true;
  return (e) => (allowed.length === 0 || allowed.some((f) => f(e))) && !denied.some((f) => f(e));
}
