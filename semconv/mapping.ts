// semconv/mapping.ts
// The one table from execscope's event model to OpenTelemetry: which attribute, at which level, of which type.

// This is data, not code: receiver/src/otel/ implements one extractor per row, and the compiler checks that the
// two agree (every row has an extractor of the row's value type). A test checks that every name here is
// documented in docs/otel.md. `source` names model fields as text because semconv/ imports nothing of ours.

import {
  ATTR_CONTAINER_ID,
  ATTR_CONTAINER_IMAGE_ID,
  ATTR_CONTAINER_IMAGE_NAME,
  ATTR_CONTAINER_IMAGE_TAGS,
  ATTR_CONTAINER_RUNTIME_NAME,
  ATTR_ERROR_TYPE,
  ATTR_EVENT_NAME,
  ATTR_EXECSCOPE_AUID,
  ATTR_EXECSCOPE_EXEC_ID,
  ATTR_EXECSCOPE_FLAGS,
  ATTR_EXECSCOPE_PARENT_EXEC_ID,
  ATTR_EXECSCOPE_SIGNAL,
  ATTR_HOST_NAME,
  ATTR_K8S_CONTAINER_NAME,
  ATTR_K8S_CRONJOB_NAME,
  ATTR_K8S_DAEMONSET_NAME,
  ATTR_K8S_DEPLOYMENT_NAME,
  ATTR_K8S_JOB_NAME,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_NODE_NAME,
  ATTR_K8S_POD_NAME,
  ATTR_K8S_POD_UID,
  ATTR_K8S_REPLICASET_NAME,
  ATTR_K8S_STATEFULSET_NAME,
  ATTR_PROCESS_ARGS_COUNT,
  ATTR_PROCESS_COMMAND_ARGS,
  ATTR_PROCESS_CREATION_TIME,
  ATTR_PROCESS_EXECUTABLE_NAME,
  ATTR_PROCESS_EXECUTABLE_PATH,
  ATTR_PROCESS_EXIT_CODE,
  ATTR_PROCESS_EXIT_TIME,
  ATTR_PROCESS_PARENT_PID,
  ATTR_PROCESS_PID,
  ATTR_PROCESS_USER_ID,
  ATTR_PROCESS_VPID,
  ATTR_PROCESS_WORKING_DIRECTORY,
  ATTR_SERVICE_NAME,
  ATTR_THREAD_ID,
} from './attributes.js';

/** How a value is encoded in OTLP: `int` is AnyValue.int_value, `string[]` an ArrayValue of strings. */
export type AttributeValueType = 'int' | 'string' | 'string[]';

/** The event kinds a row applies to. */
export type MappedEvent = 'exec' | 'exit';

/** Stability of the name in the semantic conventions, or `execscope` for names of our own. */
export type AttributeStability = 'stable' | 'release candidate' | 'development' | 'deprecated' | 'execscope';

export interface AttributeMapping {
  /** The attribute name; a template row ends in `<key>` or `<NAME>` and yields one attribute per entry. */
  readonly attribute: string;
  readonly level: 'record' | 'resource';
  readonly type: AttributeValueType;
  /** Where the value comes from in the event model (receiver/src/model), or the agent's configuration. */
  readonly source: string;
  readonly events: readonly MappedEvent[];
  /** `always`; `when known` (omitted when the model has no value); `opt-in` (only when a flag enables it). */
  readonly presence: 'always' | 'when known' | 'opt-in';
  readonly stability: AttributeStability;
  /** True when the row is a template (`attribute` ends in `<key>` or `<NAME>`). */
  readonly template?: true;
}

const BOTH = ['exec', 'exit'] as const;
const EXIT = ['exit'] as const;

/** Log record attributes: the process an event is about. */
export const RECORD_ATTRIBUTE_MAPPING = [
  { attribute: ATTR_PROCESS_PID, level: 'record', type: 'int', source: 'Process.pid', events: BOTH, presence: 'always', stability: 'release candidate' },
  { attribute: ATTR_PROCESS_PARENT_PID, level: 'record', type: 'int', source: 'Process.ppid', events: BOTH, presence: 'always', stability: 'release candidate' },
  { attribute: ATTR_PROCESS_VPID, level: 'record', type: 'int', source: 'Process.nspid', events: BOTH, presence: 'always', stability: 'release candidate' },
  { attribute: ATTR_THREAD_ID, level: 'record', type: 'int', source: 'Process.tid', events: BOTH, presence: 'always', stability: 'development' },
  { attribute: ATTR_PROCESS_EXECUTABLE_PATH, level: 'record', type: 'string', source: 'Process.binary', events: BOTH, presence: 'always', stability: 'release candidate' },
  { attribute: ATTR_PROCESS_EXECUTABLE_NAME, level: 'record', type: 'string', source: 'basename(Process.binary)', events: BOTH, presence: 'always', stability: 'release candidate' },
  { attribute: ATTR_PROCESS_COMMAND_ARGS, level: 'record', type: 'string[]', source: 'Process.argv', events: BOTH, presence: 'always', stability: 'release candidate' },
  { attribute: ATTR_PROCESS_ARGS_COUNT, level: 'record', type: 'int', source: 'Process.argv.length', events: BOTH, presence: 'always', stability: 'release candidate' },
  { attribute: ATTR_PROCESS_WORKING_DIRECTORY, level: 'record', type: 'string', source: 'Process.cwd', events: BOTH, presence: 'when known', stability: 'release candidate' },
  { attribute: ATTR_PROCESS_USER_ID, level: 'record', type: 'int', source: 'Process.uid', events: BOTH, presence: 'always', stability: 'release candidate' },
  { attribute: ATTR_PROCESS_CREATION_TIME, level: 'record', type: 'string', source: 'Process.startTime', events: BOTH, presence: 'always', stability: 'release candidate' },
  { attribute: ATTR_PROCESS_EXIT_CODE, level: 'record', type: 'int', source: 'ProcessExitEvent.status', events: EXIT, presence: 'always', stability: 'release candidate' },
  { attribute: ATTR_PROCESS_EXIT_TIME, level: 'record', type: 'string', source: 'ProcessExitEvent.exitTime', events: EXIT, presence: 'always', stability: 'release candidate' },
  { attribute: 'process.environment_variable.<NAME>', level: 'record', type: 'string', source: 'Process.environmentVariables[]', events: BOTH, presence: 'opt-in', stability: 'release candidate', template: true },
  { attribute: ATTR_ERROR_TYPE, level: 'record', type: 'string', source: 'ProcessExitEvent.signal, else status when non-zero', events: EXIT, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_EVENT_NAME, level: 'record', type: 'string', source: 'the EventName (copy)', events: BOTH, presence: 'always', stability: 'deprecated' },
  { attribute: ATTR_EXECSCOPE_EXEC_ID, level: 'record', type: 'string', source: 'Process.execId', events: BOTH, presence: 'always', stability: 'execscope' },
  { attribute: ATTR_EXECSCOPE_PARENT_EXEC_ID, level: 'record', type: 'string', source: 'Process.parentExecId', events: BOTH, presence: 'when known', stability: 'execscope' },
  { attribute: ATTR_EXECSCOPE_AUID, level: 'record', type: 'int', source: 'Process.auid', events: BOTH, presence: 'always', stability: 'execscope' },
  { attribute: ATTR_EXECSCOPE_FLAGS, level: 'record', type: 'string', source: 'Process.flags', events: BOTH, presence: 'when known', stability: 'execscope' },
  { attribute: ATTR_EXECSCOPE_SIGNAL, level: 'record', type: 'string', source: 'ProcessExitEvent.signal', events: EXIT, presence: 'when known', stability: 'execscope' },
] as const satisfies readonly AttributeMapping[];

/** Resource attributes taken from the event's pod: one Resource per pod and container. */
export const POD_RESOURCE_ATTRIBUTE_MAPPING = [
  { attribute: ATTR_K8S_NAMESPACE_NAME, level: 'resource', type: 'string', source: 'Pod.namespace', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_K8S_POD_NAME, level: 'resource', type: 'string', source: 'Pod.name', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_K8S_POD_UID, level: 'resource', type: 'string', source: 'Pod.uid', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: 'k8s.pod.label.<key>', level: 'resource', type: 'string', source: 'Pod.podLabels', events: BOTH, presence: 'when known', stability: 'stable', template: true },
  { attribute: 'k8s.pod.annotation.<key>', level: 'resource', type: 'string', source: 'Pod.podAnnotations', events: BOTH, presence: 'opt-in', stability: 'stable', template: true },
  { attribute: ATTR_K8S_CONTAINER_NAME, level: 'resource', type: 'string', source: 'Pod.container.name', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_CONTAINER_ID, level: 'resource', type: 'string', source: 'Pod.container.id without its runtime:// prefix', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_CONTAINER_RUNTIME_NAME, level: 'resource', type: 'string', source: 'the runtime:// prefix of Pod.container.id', events: BOTH, presence: 'when known', stability: 'development' },
  { attribute: ATTR_CONTAINER_IMAGE_NAME, level: 'resource', type: 'string', source: 'Pod.container.image.name without its tag', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_CONTAINER_IMAGE_TAGS, level: 'resource', type: 'string[]', source: 'the tag of Pod.container.image.name', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_CONTAINER_IMAGE_ID, level: 'resource', type: 'string', source: 'Pod.container.image.id', events: BOTH, presence: 'when known', stability: 'development' },
  { attribute: ATTR_K8S_DEPLOYMENT_NAME, level: 'resource', type: 'string', source: 'Pod.workload when Pod.workloadKind is Deployment', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_K8S_REPLICASET_NAME, level: 'resource', type: 'string', source: 'Pod.workload when Pod.workloadKind is ReplicaSet', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_K8S_STATEFULSET_NAME, level: 'resource', type: 'string', source: 'Pod.workload when Pod.workloadKind is StatefulSet', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_K8S_DAEMONSET_NAME, level: 'resource', type: 'string', source: 'Pod.workload when Pod.workloadKind is DaemonSet', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_K8S_JOB_NAME, level: 'resource', type: 'string', source: 'Pod.workload when Pod.workloadKind is Job', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_K8S_CRONJOB_NAME, level: 'resource', type: 'string', source: 'Pod.workload when Pod.workloadKind is CronJob', events: BOTH, presence: 'when known', stability: 'stable' },
  { attribute: ATTR_K8S_NODE_NAME, level: 'resource', type: 'string', source: 'event nodeName (events of pods only)', events: BOTH, presence: 'when known', stability: 'stable' },
] as const satisfies readonly AttributeMapping[];

/** Resource attributes every record carries, from the agent's configuration and environment. */
export const AGENT_RESOURCE_ATTRIBUTE_MAPPING = [
  { attribute: ATTR_HOST_NAME, level: 'resource', type: 'string', source: 'agent: export node name (NODE_NAME or hostname)', events: BOTH, presence: 'always', stability: 'development' },
  { attribute: ATTR_SERVICE_NAME, level: 'resource', type: 'string', source: 'agent: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, else "execscope"', events: BOTH, presence: 'always', stability: 'stable' },
] as const satisfies readonly AttributeMapping[];

/** Every mapped attribute, for documentation checks. */
export const ATTRIBUTE_MAPPING: readonly AttributeMapping[] = [
  ...RECORD_ATTRIBUTE_MAPPING,
  ...POD_RESOURCE_ATTRIBUTE_MAPPING,
  ...AGENT_RESOURCE_ATTRIBUTE_MAPPING,
];

export type RecordAttributeRow = (typeof RECORD_ATTRIBUTE_MAPPING)[number];
export type PodResourceAttributeRow = (typeof POD_RESOURCE_ATTRIBUTE_MAPPING)[number];

/** Kubernetes owner kinds whose name has a semconv attribute (Pod.workloadKind → attribute). */
export const WORKLOAD_KIND_ATTRIBUTE = {
  Deployment: ATTR_K8S_DEPLOYMENT_NAME,
  ReplicaSet: ATTR_K8S_REPLICASET_NAME,
  StatefulSet: ATTR_K8S_STATEFULSET_NAME,
  DaemonSet: ATTR_K8S_DAEMONSET_NAME,
  Job: ATTR_K8S_JOB_NAME,
  CronJob: ATTR_K8S_CRONJOB_NAME,
} as const satisfies Readonly<Record<string, string>>;
