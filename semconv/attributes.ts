// semconv/attributes.ts
// The OpenTelemetry attribute and event names execscope emits, copied here rather than imported at run time.

// Why copies: the process.* names live only in @opentelemetry/semantic-conventions/incubating, whose README
// warns it may break in minor releases. This file imports nothing; docs/otel.md documents every name.

// ---- Log record attributes: the process the event is about -------------------------------------------------

/** `process.pid` (int): process id in the host pid namespace. Semconv release candidate. */
export const ATTR_PROCESS_PID = 'process.pid' as const;
/** `process.parent_pid` (int): parent's process id in the host pid namespace. Semconv release candidate. */
export const ATTR_PROCESS_PARENT_PID = 'process.parent_pid' as const;
/** `process.vpid` (int): process id inside its own pid namespace. Semconv release candidate. */
export const ATTR_PROCESS_VPID = 'process.vpid' as const;
/** `process.executable.path` (string): full path of the executed image. Semconv release candidate. */
export const ATTR_PROCESS_EXECUTABLE_PATH = 'process.executable.path' as const;
/** `process.executable.name` (string): base name of the executed image. Semconv release candidate. */
export const ATTR_PROCESS_EXECUTABLE_NAME = 'process.executable.name' as const;
/** `process.command_args` (string[]): the full argv, argv[0] included. Semconv release candidate. */
export const ATTR_PROCESS_COMMAND_ARGS = 'process.command_args' as const;
/** `process.args_count` (int): length of argv. Semconv release candidate. */
export const ATTR_PROCESS_ARGS_COUNT = 'process.args_count' as const;
/** `process.working_directory` (string): working directory at exec. Semconv release candidate. */
export const ATTR_PROCESS_WORKING_DIRECTORY = 'process.working_directory' as const;
/** `process.user.id` (int): effective user id. Semconv release candidate. */
export const ATTR_PROCESS_USER_ID = 'process.user.id' as const;
/** `process.creation.time` (string, ISO 8601): when the process image started. Semconv release candidate. */
export const ATTR_PROCESS_CREATION_TIME = 'process.creation.time' as const;
/** `process.exit.code` (int): exit status (0 when killed by a signal). Semconv release candidate. */
export const ATTR_PROCESS_EXIT_CODE = 'process.exit.code' as const;
/** `process.exit.time` (string, ISO 8601): when the process exited. Semconv release candidate. */
export const ATTR_PROCESS_EXIT_TIME = 'process.exit.time' as const;
/** Prefix of `process.environment_variable.<NAME>` (string). Semconv release candidate. */
export const ATTR_PROCESS_ENVIRONMENT_VARIABLE_PREFIX = 'process.environment_variable.' as const;
/** `process.environment_variable.<NAME>` for one captured variable; the name is kept verbatim. */
export function ATTR_PROCESS_ENVIRONMENT_VARIABLE(name: string): string {
  return `${ATTR_PROCESS_ENVIRONMENT_VARIABLE_PREFIX}${name}`;
}
/** `thread.id` (int): the thread that performed the exec or exit (equal to the pid). Semconv development. */
export const ATTR_THREAD_ID = 'thread.id' as const;
/** `error.type` (string): why an exit is a failure: the signal name or the non-zero exit code. Semconv stable. */
export const ATTR_ERROR_TYPE = 'error.type' as const;
/**
 * `event.name` (string): a copy of the LogRecord's EventName. Deprecated in semconv in favour of the field,
 * which we also set; released Loki (≤ 3.7) ignores the field, while this attribute becomes the structured
 * metadata key `event_name`, the same key newer Loki derives from the field.
 */
export const ATTR_EVENT_NAME = 'event.name' as const;

// ---- Log record attributes of our own (no semconv exists) -----------------------------------------------------

/** `execscope.exec_id` (string): Tetragon-compatible unique id of the process image; joins exec and exit. */
export const ATTR_EXECSCOPE_EXEC_ID = 'execscope.exec_id' as const;
/** `execscope.parent_exec_id` (string): exec_id of the parent process. */
export const ATTR_EXECSCOPE_PARENT_EXEC_ID = 'execscope.parent_exec_id' as const;
/** `execscope.auid` (int): audit login uid; 4294967295 when unset. */
export const ATTR_EXECSCOPE_AUID = 'execscope.auid' as const;
/** `execscope.flags` (string): Tetragon's space-separated process flags, e.g. `execve rootcwd clone`. */
export const ATTR_EXECSCOPE_FLAGS = 'execscope.flags' as const;
/** `execscope.signal` (string): the signal that killed the process, e.g. `SIGKILL`; exit events only. */
export const ATTR_EXECSCOPE_SIGNAL = 'execscope.signal' as const;

// ---- Resource attributes: where the process runs ------------------------------------------------------------

/** `k8s.namespace.name` (string). Semconv stable. Loki index label by default. */
export const ATTR_K8S_NAMESPACE_NAME = 'k8s.namespace.name' as const;
/** `k8s.pod.name` (string). Semconv stable. Loki index label by default. */
export const ATTR_K8S_POD_NAME = 'k8s.pod.name' as const;
/** `k8s.pod.uid` (string). Semconv stable. The Collector's k8sattributes association key. */
export const ATTR_K8S_POD_UID = 'k8s.pod.uid' as const;
/** Prefix of `k8s.pod.label.<key>` (string). Semconv stable. */
export const ATTR_K8S_POD_LABEL_PREFIX = 'k8s.pod.label.' as const;
/** `k8s.pod.label.<key>`: one pod label, the key verbatim. */
export function ATTR_K8S_POD_LABEL(key: string): string {
  return `${ATTR_K8S_POD_LABEL_PREFIX}${key}`;
}
/** Prefix of `k8s.pod.annotation.<key>` (string). Semconv stable. Only with pod annotations enabled. */
export const ATTR_K8S_POD_ANNOTATION_PREFIX = 'k8s.pod.annotation.' as const;
/** `k8s.pod.annotation.<key>`: one pod annotation, the key verbatim. */
export function ATTR_K8S_POD_ANNOTATION(key: string): string {
  return `${ATTR_K8S_POD_ANNOTATION_PREFIX}${key}`;
}
/** `k8s.container.name` (string): container name from the Pod spec. Semconv stable. Loki index label. */
export const ATTR_K8S_CONTAINER_NAME = 'k8s.container.name' as const;
/** `k8s.node.name` (string). Semconv stable. */
export const ATTR_K8S_NODE_NAME = 'k8s.node.name' as const;
/** `k8s.deployment.name` (string). Semconv stable. Loki index label by default. */
export const ATTR_K8S_DEPLOYMENT_NAME = 'k8s.deployment.name' as const;
/** `k8s.statefulset.name` (string). Semconv stable. Loki index label by default. */
export const ATTR_K8S_STATEFULSET_NAME = 'k8s.statefulset.name' as const;
/** `k8s.daemonset.name` (string). Semconv stable. Loki index label by default. */
export const ATTR_K8S_DAEMONSET_NAME = 'k8s.daemonset.name' as const;
/** `k8s.replicaset.name` (string). Semconv stable. Loki index label by default. */
export const ATTR_K8S_REPLICASET_NAME = 'k8s.replicaset.name' as const;
/** `k8s.job.name` (string). Semconv stable. Loki index label by default. */
export const ATTR_K8S_JOB_NAME = 'k8s.job.name' as const;
/** `k8s.cronjob.name` (string). Semconv stable. Loki index label by default. */
export const ATTR_K8S_CRONJOB_NAME = 'k8s.cronjob.name' as const;
/** `container.id` (string): the bare container id, runtime prefix removed. Semconv stable. */
export const ATTR_CONTAINER_ID = 'container.id' as const;
/** `container.runtime.name` (string): the runtime prefix of the id, e.g. `containerd`. Semconv development. */
export const ATTR_CONTAINER_RUNTIME_NAME = 'container.runtime.name' as const;
/** `container.image.name` (string): image repository without the tag. Semconv stable. */
export const ATTR_CONTAINER_IMAGE_NAME = 'container.image.name' as const;
/** `container.image.tags` (string[]): the image tag, when the image name has one. Semconv stable. */
export const ATTR_CONTAINER_IMAGE_TAGS = 'container.image.tags' as const;
/** `container.image.id` (string): the runtime's image id (the pod status imageID). Semconv development. */
export const ATTR_CONTAINER_IMAGE_ID = 'container.image.id' as const;
/** `host.name` (string): the node the agent runs on. Semconv development. */
export const ATTR_HOST_NAME = 'host.name' as const;
/** `service.name` (string): `execscope` unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES says otherwise. */
export const ATTR_SERVICE_NAME = 'service.name' as const;

// ---- Event names ---------------------------------------------------------------------------------------------

/** EventName of a process exec record. Semconv defines no process events, hence our prefix. */
export const EVENT_PROCESS_EXEC = 'execscope.process.exec' as const;
/** EventName of a process exit record. */
export const EVENT_PROCESS_EXIT = 'execscope.process.exit' as const;
/** EventName of the record announcing events lost since the previous one (execscope's own). */
export const EVENT_EVENTS_LOST = 'execscope.events.lost' as const;

// ---- Loss announcement attributes (on execscope.events.lost records) ---------------------------------------

/** `execscope.lost.kernel_ring` (int): records the kernel could not put in the full ring buffer. */
export const ATTR_EXECSCOPE_LOST_KERNEL_RING = 'execscope.lost.kernel_ring' as const;
/** `execscope.lost.user_space` (int): records dropped because the agent fell behind (--ring-user-budget). */
export const ATTR_EXECSCOPE_LOST_USER_SPACE = 'execscope.lost.user_space' as const;
/** `execscope.lost.unexplained` (int): records missing by sequence numbers that no counter explains. */
export const ATTR_EXECSCOPE_LOST_UNEXPLAINED = 'execscope.lost.unexplained' as const;
/** `execscope.lost.sink.<name>` (int): events one sink dropped (queue full, export failure, rate limit). */
export const ATTR_EXECSCOPE_LOST_SINK = (sink: string): string => `execscope.lost.sink.${sink}`;
