// receiver/src/proto/schema.ts
// The Tetragon messages we speak, field by field in .proto declaration order; drives protojson encoding and parsing.

/** Proto scalar types we use (uint64 is rendered as a JSON string, the others as JSON numbers/booleans/strings). */
export type ScalarType = 'string' | 'bool' | 'uint32' | 'int32' | 'uint64';

/** Well-known google.protobuf types with a special JSON form. */
export type WellKnownType = 'UInt32Value' | 'Int32Value' | 'BoolValue' | 'Timestamp' | 'Duration' | 'FieldMask';

export interface FieldSchema {
  /** The .proto field name (protojson with UseProtoNames prints exactly this). */
  readonly name: string;
  readonly number: number;
  readonly type: ScalarType | WellKnownType | 'message' | 'enum' | 'map';
  /** Message or enum name for `message` / `enum` fields. */
  readonly ref?: string;
  readonly repeated?: true;
}

export interface MessageSchema {
  readonly name: string;
  /** Declaration order, which is protojson's output order. */
  readonly fields: readonly FieldSchema[];
  /**
   * Fields Tetragon declares but execscope neither produces nor declares (their numbers are reserved in our
   * .proto). Field-filter paths naming them are accepted and simply match nothing.
   */
  readonly absent?: readonly string[];
}

function f(name: string, number: number, type: FieldSchema['type'], ref?: string, repeated?: true): FieldSchema {
  const field: { name: string; number: number; type: FieldSchema['type']; ref?: string; repeated?: true } = { name, number, type };
  if (ref !== undefined) field.ref = ref;
  if (repeated) field.repeated = true;
  return field;
}

/** Every message whose JSON form we produce or parse, keyed by the message name in package `tetragon`. */
export const MESSAGES: Readonly<Record<string, MessageSchema>> = {
  Image: { name: 'Image', fields: [f('id', 1, 'string'), f('name', 2, 'string')] },
  SecurityContext: { name: 'SecurityContext', fields: [f('privileged', 1, 'bool')] },
  Container: {
    name: 'Container',
    fields: [
      f('id', 1, 'string'),
      f('name', 2, 'string'),
      f('image', 3, 'message', 'Image'),
      f('start_time', 4, 'Timestamp'),
      f('pid', 5, 'UInt32Value'),
      f('maybe_exec_probe', 13, 'bool'),
      f('security_context', 14, 'message', 'SecurityContext'),
    ],
  },
  Pod: {
    name: 'Pod',
    fields: [
      f('namespace', 1, 'string'),
      f('name', 2, 'string'),
      f('uid', 3, 'string'),
      f('container', 4, 'message', 'Container'),
      f('pod_labels', 5, 'map'),
      f('workload', 6, 'string'),
      f('workload_kind', 7, 'string'),
      f('pod_annotations', 8, 'map'),
    ],
  },
  EnvVar: { name: 'EnvVar', fields: [f('Key', 1, 'string'), f('Value', 2, 'string')] },
  Process: {
    name: 'Process',
    fields: [
      f('exec_id', 1, 'string'),
      f('pid', 2, 'UInt32Value'),
      f('uid', 3, 'UInt32Value'),
      f('cwd', 4, 'string'),
      f('binary', 5, 'string'),
      f('arguments', 6, 'string'),
      f('flags', 7, 'string'),
      f('start_time', 8, 'Timestamp'),
      f('auid', 9, 'UInt32Value'),
      f('pod', 10, 'message', 'Pod'),
      f('docker', 11, 'string'),
      f('parent_exec_id', 12, 'string'),
      f('refcnt', 13, 'uint32'),
      f('tid', 16, 'UInt32Value'),
      f('in_init_tree', 20, 'BoolValue'),
      f('environment_variables', 21, 'message', 'EnvVar', true),
    ],
    absent: ['cap', 'ns', 'process_credentials', 'binary_properties', 'user'],
  },
  ProcessExec: {
    name: 'ProcessExec',
    fields: [f('process', 1, 'message', 'Process'), f('parent', 2, 'message', 'Process'), f('ancestors', 3, 'message', 'Process', true)],
  },
  ProcessExit: {
    name: 'ProcessExit',
    fields: [
      f('process', 1, 'message', 'Process'),
      f('parent', 2, 'message', 'Process'),
      f('signal', 3, 'string'),
      f('status', 4, 'uint32'),
      f('time', 5, 'Timestamp'),
      f('ancestors', 6, 'message', 'Process', true),
    ],
  },
  RateLimitInfo: { name: 'RateLimitInfo', fields: [f('number_of_dropped_process_events', 1, 'uint64')] },
  ExecscopeLossReport: {
    name: 'ExecscopeLossReport',
    fields: [f('kernel_ring', 1, 'uint64'), f('user_space', 2, 'uint64'), f('unexplained', 3, 'uint64'), f('sinks', 4, 'map')],
  },
  AggregationInfo: { name: 'AggregationInfo', fields: [f('count', 1, 'uint64')] },
  GetEventsResponse: {
    name: 'GetEventsResponse',
    fields: [
      f('process_exec', 1, 'message', 'ProcessExec'),
      f('process_exit', 5, 'message', 'ProcessExit'),
      f('rate_limit_info', 40001, 'message', 'RateLimitInfo'),
      f('execscope_loss_report', 50001, 'message', 'ExecscopeLossReport'),
      f('node_name', 1000, 'string'),
      f('time', 1001, 'Timestamp'),
      f('aggregation_info', 1002, 'message', 'AggregationInfo'),
      f('cluster_name', 1003, 'string'),
      f('node_labels', 1004, 'map'),
    ],
  },
  CapFilterSet: {
    name: 'CapFilterSet',
    fields: [
      f('any', 1, 'enum', 'CapabilitiesType', true),
      f('all', 2, 'enum', 'CapabilitiesType', true),
      f('exactly', 3, 'enum', 'CapabilitiesType', true),
      f('none', 4, 'enum', 'CapabilitiesType', true),
    ],
  },
  CapFilter: {
    name: 'CapFilter',
    fields: [
      f('permitted', 1, 'message', 'CapFilterSet'),
      f('effective', 2, 'message', 'CapFilterSet'),
      f('inheritable', 3, 'message', 'CapFilterSet'),
    ],
  },
  Filter: {
    name: 'Filter',
    fields: [
      f('binary_regex', 1, 'string', undefined, true),
      f('namespace', 2, 'string', undefined, true),
      f('health_check', 3, 'BoolValue'),
      f('pid', 4, 'uint32', undefined, true),
      f('pid_set', 5, 'uint32', undefined, true),
      f('event_set', 6, 'enum', 'EventType', true),
      f('pod_regex', 7, 'string', undefined, true),
      f('arguments_regex', 8, 'string', undefined, true),
      f('labels', 9, 'string', undefined, true),
      f('policy_names', 10, 'string', undefined, true),
      f('capabilities', 11, 'message', 'CapFilter'),
      f('parent_binary_regex', 12, 'string', undefined, true),
      f('cel_expression', 13, 'string', undefined, true),
      f('parent_arguments_regex', 14, 'string', undefined, true),
      f('container_id', 15, 'string', undefined, true),
      f('in_init_tree', 16, 'BoolValue'),
      f('ancestor_binary_regex', 17, 'string', undefined, true),
      f('container_name_regex', 18, 'string', undefined, true),
      f('namespace_regex', 19, 'string', undefined, true),
    ],
  },
  FieldFilter: {
    name: 'FieldFilter',
    fields: [
      f('event_set', 1, 'enum', 'EventType', true),
      f('fields', 2, 'FieldMask'),
      f('action', 3, 'enum', 'FieldFilterAction'),
      f('invert_event_set', 4, 'BoolValue'),
    ],
  },
  RedactionFilter: {
    name: 'RedactionFilter',
    fields: [f('match', 1, 'string', undefined, true), f('redact', 2, 'string', undefined, true), f('binary_regex', 3, 'string', undefined, true)],
  },
};

/** Tetragon's EventType enum; numbers equal GetEventsResponse's oneof field numbers. */
export const EVENT_TYPE_VALUES: Readonly<Record<string, number>> = {
  UNDEF: 0,
  PROCESS_EXEC: 1,
  PROCESS_EXIT: 5,
  PROCESS_KPROBE: 9,
  PROCESS_TRACEPOINT: 10,
  PROCESS_LOADER: 11,
  PROCESS_UPROBE: 12,
  PROCESS_THROTTLE: 27,
  PROCESS_LSM: 28,
  PROCESS_USDT: 29,
  TEST: 40000,
  RATE_LIMIT_INFO: 40001,
};

const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Every enum the schema refers to: name → number. */
export const ENUMS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  EventType: EVENT_TYPE_VALUES,
  FieldFilterAction: { INCLUDE: 0, EXCLUDE: 1 },
  CapabilitiesType: Object.fromEntries(CAPABILITY_NAMES.map((name, i) => [name, i])),
};

/** Looks up a message schema; throws for names not in the table (a programming error). */
export function messageSchema(name: string): MessageSchema {
  const schema = MESSAGES[name];
  if (schema === undefined) throw new Error(`unknown message ${name}`);
  return schema;
}

/** protoc's json_name: underscores dropped, the following letter upper-cased (exec_id → execId). */
export function jsonNameOf(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/_/g, '');
}
