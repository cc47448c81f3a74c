// receiver/src/proto/from-proto.ts
// GetEventsResponse plain object → model event, with neutral defaults for whatever the message leaves out.

import type { ExecscopeEvent } from '../model/events.js';
import type { HrTime } from '../model/hr-time.js';
import type { Container, Pod } from '../model/pod.js';
import type { EnvVar, Process } from '../model/process.js';
import type { ContainerMsg, GetEventsResponseMsg, PodMsg, ProcessMsg, TimestampMsg } from './messages.js';

/** HrTime of a Timestamp message; an absent message is the Unix epoch. */
export function hrTimeOf(ts: TimestampMsg | undefined): HrTime {
  if (ts === undefined) return [0, 0];
  return [Number(ts.seconds ?? 0), ts.nanos ?? 0];
}

function containerFromProto(c: ContainerMsg): Container {
  const container: { -readonly [K in keyof Container]: Container[K] } = {
    id: c.id ?? '',
    name: c.name ?? '',
    maybeExecProbe: c.maybe_exec_probe ?? false,
  };
  if (c.image !== undefined) container.image = { id: c.image.id ?? '', name: c.image.name ?? '' };
  if (c.start_time !== undefined) container.startTime = hrTimeOf(c.start_time);
  if (c.pid !== undefined) container.pid = c.pid.value ?? 0;
  if (c.security_context !== undefined) container.securityContext = { privileged: c.security_context.privileged ?? false };
  return container;
}

function podFromProto(p: PodMsg): Pod {
  const pod: { -readonly [K in keyof Pod]: Pod[K] } = {
    namespace: p.namespace ?? '',
    name: p.name ?? '',
    uid: p.uid ?? '',
    podLabels: { ...p.pod_labels },
    workload: p.workload ?? '',
    workloadKind: p.workload_kind ?? '',
  };
  if (p.container !== undefined) pod.container = containerFromProto(p.container);
  if (p.pod_annotations !== undefined) pod.podAnnotations = { ...p.pod_annotations };
  return pod;
}

/** The ktime inside an exec_id (base64 of "node:ktime:pid"), 0 when it does not have that shape. */
function ktimeOfExecId(execId: string): bigint {
  const decoded = Buffer.from(execId, 'base64').toString('utf8');
  const match = /:(\d{1,20}):\d+$/.exec(decoded);
  return match?.[1] !== undefined ? BigInt(match[1]) : 0n;
}

/** A model Process from a Process message; `parentPid` fills the internal ppid when the parent is known. */
export function processFromProto(p: ProcessMsg, parentPid = 0): Process {
  const pid = p.pid?.value ?? 0;
  const process: { -readonly [K in keyof Process]: Process[K] } = {
    execId: p.exec_id ?? '',
    pid,
    uid: p.uid?.value ?? 0,
    cwd: p.cwd ?? '',
    binary: p.binary ?? '',
    arguments: p.arguments ?? '',
    flags: p.flags ?? '',
    startTime: hrTimeOf(p.start_time),
    auid: p.auid?.value ?? 0,
    docker: p.docker ?? '',
    parentExecId: p.parent_exec_id ?? '',
    refcnt: p.refcnt ?? 0,
    tid: p.tid?.value ?? 0,
    argv: [],
    ppid: parentPid,
    nspid: 0,
    ktime: ktimeOfExecId(p.exec_id ?? ''),
    cgroupPath: '',
    containerId: '',
  };
  if (p.pod !== undefined) process.pod = podFromProto(p.pod);
  if (p.in_init_tree !== undefined) process.inInitTree = p.in_init_tree.value ?? false;
  if (p.environment_variables !== undefined) {
    process.environmentVariables = p.environment_variables.map((e): EnvVar => ({ key: e.Key ?? '', value: e.Value ?? '' }));
  }
  return process;
}

/** The model event of a response, or undefined for event types execscope does not model (kprobes, …). */
export function fromProtoResponse(msg: GetEventsResponseMsg): ExecscopeEvent | undefined {
  const nodeName = msg.node_name ?? '';
  const time = hrTimeOf(msg.time);
  if (msg.process_exec !== undefined) {
    const e = msg.process_exec;
    const parent = e.parent !== undefined ? processFromProto(e.parent) : undefined;
    return {
      kind: 'process_exec',
      process: processFromProto(e.process ?? {}, parent?.pid ?? 0),
      ...(parent !== undefined ? { parent } : {}),
      ...(e.ancestors !== undefined ? { ancestors: e.ancestors.map((a) => processFromProto(a)) } : {}),
      nodeName,
      time,
    };
  }
  if (msg.process_exit !== undefined) {
    const e = msg.process_exit;
    const parent = e.parent !== undefined ? processFromProto(e.parent) : undefined;
    return {
      kind: 'process_exit',
      process: processFromProto(e.process ?? {}, parent?.pid ?? 0),
      ...(parent !== undefined ? { parent } : {}),
      ...(e.ancestors !== undefined ? { ancestors: e.ancestors.map((a) => processFromProto(a)) } : {}),
      signal: e.signal ?? '',
      status: e.status ?? 0,
      exitTime: e.time !== undefined ? hrTimeOf(e.time) : time,
      nodeName,
      time,
    };
  }
  if (msg.execscope_loss_report !== undefined) {
    const r = msg.execscope_loss_report;
    return {
      kind: 'loss_report',
      kernelRing: Number(r.kernel_ring ?? 0),
      userSpace: Number(r.user_space ?? 0),
      unexplained: Number(r.unexplained ?? 0),
      sinks: Object.fromEntries(Object.entries(r.sinks ?? {}).map(([k, v]) => [k, Number(v)])),
      nodeName,
      time,
    };
  }
  if (msg.rate_limit_info !== undefined) {
    return {
      kind: 'rate_limit_info',
      numberOfDroppedProcessEvents: uint64Of(msg.rate_limit_info.number_of_dropped_process_events ?? 0),
      nodeName,
      time,
    };
  }
  return undefined;
}

/** A uint64 as a Number when exact, else a BigInt (parseUint64 keeps such values as decimal strings). */
function uint64Of(v: number | string): number | bigint {
  return typeof v === 'string' ? BigInt(v) : v;
}
