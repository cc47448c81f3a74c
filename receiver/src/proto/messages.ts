// receiver/src/proto/messages.ts
// Plain-object shapes of the Tetragon messages as @grpc/proto-loader hands them out (keepCase, so snake_case keys).

/** google.protobuf.UInt32Value / Int32Value; an absent `value` means 0. */
export interface UInt32ValueMsg {
  value?: number;
}

/** google.protobuf.BoolValue; an absent `value` means false. */
export interface BoolValueMsg {
  value?: boolean;
}

/** google.protobuf.Timestamp; `seconds` is an int64 (a string when decoded with longs: String). */
export interface TimestampMsg {
  seconds?: number | string;
  nanos?: number;
}

export interface ImageMsg {
  id?: string;
  name?: string;
}

export interface ContainerMsg {
  id?: string;
  name?: string;
  image?: ImageMsg;
  start_time?: TimestampMsg;
  pid?: UInt32ValueMsg;
  maybe_exec_probe?: boolean;
  security_context?: { privileged?: boolean };
}

export interface PodMsg {
  namespace?: string;
  name?: string;
  uid?: string;
  container?: ContainerMsg;
  pod_labels?: Record<string, string>;
  workload?: string;
  workload_kind?: string;
  pod_annotations?: Record<string, string>;
}

export interface EnvVarMsg {
  Key?: string;
  Value?: string;
}

export interface ProcessMsg {
  exec_id?: string;
  pid?: UInt32ValueMsg;
  uid?: UInt32ValueMsg;
  cwd?: string;
  binary?: string;
  arguments?: string;
  flags?: string;
  start_time?: TimestampMsg;
  auid?: UInt32ValueMsg;
  pod?: PodMsg;
  docker?: string;
  parent_exec_id?: string;
  refcnt?: number;
  tid?: UInt32ValueMsg;
  in_init_tree?: BoolValueMsg;
  environment_variables?: EnvVarMsg[];
}

export interface ProcessExecMsg {
  process?: ProcessMsg;
  parent?: ProcessMsg;
  ancestors?: ProcessMsg[];
}

export interface ProcessExitMsg {
  process?: ProcessMsg;
  parent?: ProcessMsg;
  signal?: string;
  status?: number;
  time?: TimestampMsg;
  ancestors?: ProcessMsg[];
}

export interface RateLimitInfoMsg {
  number_of_dropped_process_events?: number | string;
}

/** execscope's own loss announcement (oneof member 50001; Tetragon clients ignore it). */
export interface ExecscopeLossReportMsg {
  kernel_ring?: number | string;
  user_space?: number | string;
  unexplained?: number | string;
  sinks?: Record<string, number | string>;
}

export interface GetEventsResponseMsg {
  process_exec?: ProcessExecMsg;
  process_exit?: ProcessExitMsg;
  rate_limit_info?: RateLimitInfoMsg;
  execscope_loss_report?: ExecscopeLossReportMsg;
  node_name?: string;
  time?: TimestampMsg;
  aggregation_info?: { count?: number | string };
  cluster_name?: string;
  node_labels?: Record<string, string>;
  /** Virtual oneof discriminator added by proto-loader's `oneofs: true`; ignored by our encoders. */
  event?: string;
}

export interface CapFilterSetMsg {
  any?: (string | number)[];
  all?: (string | number)[];
  exactly?: (string | number)[];
  none?: (string | number)[];
}

export interface FilterMsg {
  binary_regex?: string[];
  namespace?: string[];
  health_check?: BoolValueMsg;
  pid?: number[];
  pid_set?: number[];
  /** Enum names (or numbers when the sender used values we do not know). */
  event_set?: (string | number)[];
  pod_regex?: string[];
  arguments_regex?: string[];
  labels?: string[];
  policy_names?: string[];
  capabilities?: { permitted?: CapFilterSetMsg; effective?: CapFilterSetMsg; inheritable?: CapFilterSetMsg };
  parent_binary_regex?: string[];
  cel_expression?: string[];
  parent_arguments_regex?: string[];
  container_id?: string[];
  in_init_tree?: BoolValueMsg;
  ancestor_binary_regex?: string[];
  container_name_regex?: string[];
  namespace_regex?: string[];
}

export interface FieldFilterMsg {
  event_set?: (string | number)[];
  fields?: { paths?: string[] };
  action?: string | number;
  invert_event_set?: BoolValueMsg;
}

export interface RedactionFilterMsg {
  match?: string[];
  redact?: string[];
  binary_regex?: string[];
}

export interface GetEventsRequestMsg {
  allow_list?: FilterMsg[];
  deny_list?: FilterMsg[];
  aggregation_options?: { window_size?: { seconds?: number | string; nanos?: number }; channel_buffer_size?: number | string };
  field_filters?: FieldFilterMsg[];
}
