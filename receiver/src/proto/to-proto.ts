// receiver/src/proto/to-proto.ts
// Model event → GetEventsResponse plain object (zero scalars left out, wrappers always set), for gRPC and JSON.

import type { ExecscopeEvent } from '../model/events.js';
import type { HrTime } from '../model/hr-time.js';
import type { Container, Pod } from '../model/pod.js';
import type { Process } from '../model/process.js';
import type { ContainerMsg, GetEventsResponseMsg, PodMsg, ProcessMsg, TimestampMsg } from './messages.js';

/** A Timestamp message from an HrTime. */
export function timestampOf(t: HrTime): TimestampMsg {
  const ts: TimestampMsg = {};
  if (t[0] !== 0) ts.seconds = t[0];
  if (t[1] !== 0) ts.nanos = t[1];
  return ts;
}

function containerToProto(c: Container): ContainerMsg {
  const msg: ContainerMsg = {};
  if (c.id !== '') msg.id = c.id;
  if (c.name !== '') msg.name = c.name;
  if (c.image !== undefined) {
    msg.image = {};
    if (c.image.id !== '') msg.image.id = c.image.id;
    if (c.image.name !== '') msg.image.name = c.image.name;
  }
  if (c.startTime !== undefined) msg.start_time = timestampOf(c.startTime);
  if (c.pid !== undefined) msg.pid = { value: c.pid };
  if (c.maybeExecProbe) msg.maybe_exec_probe = true;
  if (c.securityContext !== undefined) msg.security_context = c.securityContext.privileged ? { privileged: true } : {};
  return msg;
}

function podToProto(p: Pod): PodMsg {
  const msg: PodMsg = {};
  if (p.namespace !== '') msg.namespace = p.namespace;
  if (p.name !== '') msg.name = p.name;
  if (p.uid !== '') msg.uid = p.uid;
  if (p.container !== undefined) msg.container = containerToProto(p.container);
  if (Object.keys(p.podLabels).length > 0) msg.pod_labels = { ...p.podLabels };
  if (p.workload !== '') msg.workload = p.workload;
  if (p.workloadKind !== '') msg.workload_kind = p.workloadKind;
  if (p.podAnnotations !== undefined && Object.keys(p.podAnnotations).length > 0) msg.pod_annotations = { ...p.podAnnotations };
  return msg;
}

/** Tetragon's Process message; the model's internal-only fields (argv, ppid, ktime, …) are left behind. */
export function processToProto(p: Process): ProcessMsg {
  const msg: ProcessMsg = {};
  if (p.execId !== '') msg.exec_id = p.execId;
  msg.pid = { value: p.pid };
  msg.uid = { value: p.uid };
  if (p.cwd !== '') msg.cwd = p.cwd;
  if (p.binary !== '') msg.binary = p.binary;
  if (p.arguments !== '') msg.arguments = p.arguments;
  if (p.flags !== '') msg.flags = p.flags;
  msg.start_time = timestampOf(p.startTime);
  msg.auid = { value: p.auid };
  if (p.pod !== undefined) msg.pod = podToProto(p.pod);
  if (p.docker !== '') msg.docker = p.docker;
  if (p.parentExecId !== '') msg.parent_exec_id = p.parentExecId;
  if (p.refcnt !== 0) msg.refcnt = p.refcnt;
  msg.tid = { value: p.tid };
  if (p.inInitTree !== undefined) msg.in_init_tree = { value: p.inInitTree };
  if (p.environmentVariables !== undefined && p.environmentVariables.length > 0) {
    msg.environment_variables = p.environmentVariables.map((e) => {
      const env: { Key?: string; Value?: string } = {};
      if (e.key !== '') env.Key = e.key;
      if (e.value !== '') env.Value = e.value;
      return env;
    });
  }
  return msg;
}

/** The GetEventsResponse for one event, fresh on every call (callers may mutate it, e.g. field filters). */
export function toProtoResponse(event: ExecscopeEvent): GetEventsResponseMsg {
  const msg: GetEventsResponseMsg = {};
  switch (event.kind) {
    case 'process_exec': {
      const exec: GetEventsResponseMsg['process_exec'] & object = { process: processToProto(event.process) };
      if (event.parent !== undefined) exec.parent = processToProto(event.parent);
      if (event.ancestors !== undefined && event.ancestors.length > 0) exec.ancestors = event.ancestors.map(processToProto);
      msg.process_exec = exec;
      break;
    }
    case 'process_exit': {
      const exit: GetEventsResponseMsg['process_exit'] & object = { process: processToProto(event.process) };
      if (event.parent !== undefined) exit.parent = processToProto(event.parent);
      if (event.signal !== '') exit.signal = event.signal;
      if (event.status !== 0) exit.status = event.status;
      exit.time = timestampOf(event.exitTime);
      if (event.ancestors !== undefined && event.ancestors.length > 0) exit.ancestors = event.ancestors.map(processToProto);
      msg.process_exit = exit;
      break;
    }
    case 'loss_report': {
      const report: NonNullable<GetEventsResponseMsg['execscope_loss_report']> = {};
      if (event.kernelRing !== 0) report.kernel_ring = event.kernelRing;
      if (event.userSpace !== 0) report.user_space = event.userSpace;
      if (event.unexplained !== 0) report.unexplained = event.unexplained;
      if (Object.keys(event.sinks).length > 0) report.sinks = { ...event.sinks };
      msg.execscope_loss_report = report;
      break;
    }
    case 'rate_limit_info':
      {
        const n = event.numberOfDroppedProcessEvents;
        // uint64: a decimal string keeps values beyond 2^53 exact through proto-loader and the JSON encoder.
        msg.rate_limit_info = n !== 0 && n !== 0n ? { number_of_dropped_process_events: typeof n === 'bigint' ? n.toString() : n } : {};
      }
      break;
  }
  if (event.nodeName !== '') msg.node_name = event.nodeName;
  msg.time = timestampOf(event.time);
  return msg;
}
