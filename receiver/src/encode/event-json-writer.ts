// receiver/src/encode/event-json-writer.ts
// The hot path of JSON output: writes exec/exit events straight from the model, byte-identical to the
// schema-driven encodeEventJson (test/unit/encode/event-json-writer.test.ts compares them), several times faster.

import type { ExecscopeEvent } from '../model/events.js';
import { compareCodePoints } from './code-point-order.js';
import type { HrTime } from '../model/hr-time.js';
import type { Container, Pod } from '../model/pod.js';
import type { Process } from '../model/process.js';

/** Caches the "YYYY-MM-DDTHH:MM:SS" part per second: consecutive events share it. */
class TimestampWriter {
  private _sec = Number.NaN;
  private _prefix = '';
  write(t: HrTime): string {
    const [sec, nsec] = t;
    if (sec !== this._sec) {
      this._sec = sec;
      this._prefix = new Date(sec * 1000).toISOString().slice(0, 19);
    }
    if (nsec === 0) return `"${this._prefix}Z"`;
    const digits = String(nsec).padStart(9, '0');
    if (nsec % 1_000_000 === 0) return `"${this._prefix}.${digits.slice(0, 3)}Z"`;
    if (nsec % 1_000 === 0) return `"${this._prefix}.${digits.slice(0, 6)}Z"`;
    return `"${this._prefix}.${digits}Z"`;
  }
}

const PROCESS_CACHE_MAX = 256;

export class EventJsonWriter {
  private readonly _ts = new TimestampWriter();
  /**
   * Processes are immutable: a parent printed once is printed the same way for each of its children.
   * A bounded Map rather than a WeakMap: ephemeron tables made garbage collection the main cost.
   */
  private readonly _processCache = new Map<Process, string>();

  /** One JSON line (no newline). */
  write(event: ExecscopeEvent): string {
    const ts = this._ts;
    switch (event.kind) {
      case 'process_exec': {
        let body = `{"process":${this._process(event.process, false)}`;
        if (event.parent !== undefined) body += `,"parent":${this._process(event.parent, true)}`;
        if (event.ancestors !== undefined && event.ancestors.length > 0) body += `,"ancestors":[${event.ancestors.map((p) => this._process(p, true)).join(',')}]`;
        return `{"process_exec":${body}}${this._tail(event.nodeName, event.time)}`;
      }
      case 'process_exit': {
        let body = `{"process":${this._process(event.process, false)}`;
        if (event.parent !== undefined) body += `,"parent":${this._process(event.parent, true)}`;
        if (event.signal !== '') body += `,"signal":${JSON.stringify(event.signal)}`;
        if (event.status !== 0) body += `,"status":${event.status}`;
        body += `,"time":${ts.write(event.exitTime)}`;
        if (event.ancestors !== undefined && event.ancestors.length > 0) body += `,"ancestors":[${event.ancestors.map((p) => this._process(p, true)).join(',')}]`;
        return `{"process_exit":${body}}${this._tail(event.nodeName, event.time)}`;
      }
      case 'loss_report': {
        // protojson: zero uint64 fields are left out, the others quoted.
        const parts: string[] = [];
        if (event.kernelRing !== 0) parts.push(`"kernel_ring":"${event.kernelRing}"`);
        if (event.userSpace !== 0) parts.push(`"user_space":"${event.userSpace}"`);
        if (event.unexplained !== 0) parts.push(`"unexplained":"${event.unexplained}"`);
        const sinks = mapOfNumbersJson(event.sinks);
        if (sinks !== undefined) parts.push(`"sinks":${sinks}`);
        return `{"execscope_loss_report":{${parts.join(',')}}${this._tail(event.nodeName, event.time)}`;
      }
      case 'rate_limit_info': {
        const n = event.numberOfDroppedProcessEvents;
        return `{"rate_limit_info":${n !== 0 && n !== 0n ? `{"number_of_dropped_process_events":"${n}"}` : '{}'}${this._tail(event.nodeName, event.time)}`;
      }
    }
  }

  private _tail(nodeName: string, time: HrTime): string {
    return `${nodeName !== '' ? `,"node_name":${JSON.stringify(nodeName)}` : ''},"time":${this._ts.write(time)}}`;
  }

  /** `remember`: parents recur (one shell, many children); an event's own process rarely does. */
  private _process(p: Process, remember: boolean): string {
    const cached = remember ? this._processCache.get(p) : undefined;
    if (cached !== undefined) return cached;
    let s = '{';
    if (p.execId !== '') s += `"exec_id":${JSON.stringify(p.execId)},`;
    s += `"pid":${p.pid},"uid":${p.uid}`;
    if (p.cwd !== '') s += `,"cwd":${JSON.stringify(p.cwd)}`;
    if (p.binary !== '') s += `,"binary":${JSON.stringify(p.binary)}`;
    if (p.arguments !== '') s += `,"arguments":${JSON.stringify(p.arguments)}`;
    if (p.flags !== '') s += `,"flags":${JSON.stringify(p.flags)}`;
    s += `,"start_time":${this._ts.write(p.startTime)},"auid":${p.auid}`;
    if (p.pod !== undefined) s += `,"pod":${this._pod(p.pod)}`;
    if (p.docker !== '') s += `,"docker":${JSON.stringify(p.docker)}`;
    if (p.parentExecId !== '') s += `,"parent_exec_id":${JSON.stringify(p.parentExecId)}`;
    if (p.refcnt !== 0) s += `,"refcnt":${p.refcnt}`;
    s += `,"tid":${p.tid}`;
    if (p.inInitTree !== undefined) s += `,"in_init_tree":${p.inInitTree}`;
    const env = p.environmentVariables;
    if (env !== undefined && env.length > 0) {
      s += `,"environment_variables":[${env
        .map((e) => {
          const parts: string[] = [];
          if (e.key !== '') parts.push(`"Key":${JSON.stringify(e.key)}`);
          if (e.value !== '') parts.push(`"Value":${JSON.stringify(e.value)}`);
          return `{${parts.join(',')}}`;
        })
        .join(',')}]`;
    }
    s += '}';
    if (remember) {
      if (this._processCache.size >= PROCESS_CACHE_MAX) this._processCache.clear();
      this._processCache.set(p, s);
    }
    return s;
  }

  private _pod(p: Pod): string {
    const parts: string[] = [];
    if (p.namespace !== '') parts.push(`"namespace":${JSON.stringify(p.namespace)}`);
    if (p.name !== '') parts.push(`"name":${JSON.stringify(p.name)}`);
    if (p.uid !== '') parts.push(`"uid":${JSON.stringify(p.uid)}`);
    if (p.container !== undefined) parts.push(`"container":${this._container(p.container)}`);
    const labels = mapJson(p.podLabels);
    if (labels !== undefined) parts.push(`"pod_labels":${labels}`);
    if (p.workload !== '') parts.push(`"workload":${JSON.stringify(p.workload)}`);
    if (p.workloadKind !== '') parts.push(`"workload_kind":${JSON.stringify(p.workloadKind)}`);
    const annotations = p.podAnnotations === undefined ? undefined : mapJson(p.podAnnotations);
    if (annotations !== undefined) parts.push(`"pod_annotations":${annotations}`);
    return `{${parts.join(',')}}`;
  }

  private _container(c: Container): string {
    const parts: string[] = [];
    if (c.id !== '') parts.push(`"id":${JSON.stringify(c.id)}`);
    if (c.name !== '') parts.push(`"name":${JSON.stringify(c.name)}`);
    if (c.image !== undefined) {
      const img: string[] = [];
      if (c.image.id !== '') img.push(`"id":${JSON.stringify(c.image.id)}`);
      if (c.image.name !== '') img.push(`"name":${JSON.stringify(c.image.name)}`);
      parts.push(`"image":{${img.join(',')}}`);
    }
    if (c.startTime !== undefined) parts.push(`"start_time":${this._ts.write(c.startTime)}`);
    if (c.pid !== undefined) parts.push(`"pid":${c.pid}`);
    if (c.maybeExecProbe) parts.push('"maybe_exec_probe":true');
    if (c.securityContext !== undefined) parts.push(`"security_context":${c.securityContext.privileged ? '{"privileged":true}' : '{}'}`);
    return `{${parts.join(',')}}`;
  }
}

function mapJson(m: Readonly<Record<string, string>>): string | undefined {
  const keys = Object.keys(m);
  if (keys.length === 0) return undefined;
  keys.sort(compareCodePoints);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(m[k] ?? '')}`).join(',')}}`;
}

/** A map<string, uint64> as protojson prints it: keys in code-point order, zero values kept, numbers quoted. */
function mapOfNumbersJson(m: Readonly<Record<string, number>>): string | undefined {
  const keys = Object.keys(m);
  if (keys.length === 0) return undefined;
  keys.sort(compareCodePoints);
  return `{${keys.map((k) => `${JSON.stringify(k)}:"${m[k] ?? 0}"`).join(',')}}`;
}
