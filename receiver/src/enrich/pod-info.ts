// receiver/src/enrich/pod-info.ts
// Turns a Kubernetes Pod object into one record per container id: the Pod model fields, probes, a fingerprint.

import type { V1Container, V1ContainerStatus, V1Pod, V1Probe } from '@kubernetes/client-node';
import type { HrTime } from '../model/hr-time.js';
import type { Container, Image, Pod } from '../model/pod.js';
import { workloadOf } from './workload.js';

/** The pod-level part of the Pod model, shared by every container of one pod version. */
export type PodBase = Omit<Pod, 'container'>;

/** What the index keeps for one container id. */
export interface PodContainerRecord {
  /** Container id without its runtime prefix (what cgroup paths carry). */
  readonly id: string;
  /** Pod metadata.uid. */
  readonly podUid: string;
  readonly base: PodBase;
  /** Container fields common to every process of the container (no pid, maybeExecProbe false). */
  readonly container: Container;
  /** Commands of the container's exec liveness, readiness and startup probes. */
  readonly execProbes: readonly (readonly string[])[];
  /** Equal fingerprints mean equal content, so a pod update that changes nothing we emit keeps the record. */
  readonly fingerprint: string;
}

export interface PodInfoOptions {
  /** Copy metadata.annotations into Pod.podAnnotations. */
  readonly enablePodAnnotations: boolean;
}

/** Strips `containerd://`, `cri-o://`, `docker://` … from a status containerID. */
export function stripRuntimePrefix(containerId: string): string {
  const sep = containerId.indexOf('://');
  return sep < 0 ? containerId : containerId.slice(sep + 3);
}

/**
 * One record per container id the pod's status lists (containers, init containers and ephemeral
 * containers). Statuses without an id yet (the container is still being created) are skipped: the pod
 * update that fills the id in will index it.
 */
export function containerRecordsOf(pod: V1Pod, options: PodInfoOptions): PodContainerRecord[] {
  const metadata = pod.metadata;
  const status = pod.status;
  if (metadata === undefined || status === undefined) return [];
  const workload = workloadOf(metadata);
  const labels = { ...(metadata.labels ?? {}) };
  const base: PodBase = {
    namespace: metadata.namespace ?? '',
    name: metadata.name ?? '',
    uid: metadata.uid ?? '',
    podLabels: labels,
    workload: workload.name,
    workloadKind: workload.kind,
    ...(options.enablePodAnnotations ? { podAnnotations: { ...(metadata.annotations ?? {}) } } : {}),
  };
  const baseFingerprint = JSON.stringify(base);
  const spec = pod.spec;
  const records: PodContainerRecord[] = [];
  const groups: ReadonlyArray<readonly [V1ContainerStatus[] | undefined, readonly SpecContainer[] | undefined]> = [
    [status.containerStatuses, spec?.containers],
    [status.initContainerStatuses, spec?.initContainers],
    [status.ephemeralContainerStatuses, spec?.ephemeralContainers],
  ];
  for (const [statuses, specs] of groups) {
    for (const containerStatus of statuses ?? []) {
      const fullId = containerStatus.containerID ?? '';
      const id = stripRuntimePrefix(fullId);
      if (id === '') continue;
      const specContainer = specs?.find((c) => c.name === containerStatus.name);
      const container = containerOf(fullId, containerStatus, specContainer);
      const execProbes = execProbesOf(specContainer);
      records.push({
        id,
        podUid: base.uid,
        base,
        container,
        execProbes,
        fingerprint: `${baseFingerprint}|${JSON.stringify(container)}|${JSON.stringify(execProbes)}`,
      });
    }
  }
  return records;
}

/** Spec containers, init containers and ephemeral containers share the fields read here. */
type SpecContainer = Pick<V1Container, 'name' | 'livenessProbe' | 'readinessProbe' | 'startupProbe' | 'securityContext'>;

function containerOf(fullId: string, status: V1ContainerStatus, spec: SpecContainer | undefined): Container {
  const image: Image = { id: status.imageID ?? '', name: status.image ?? '' };
  const startTime = startTimeOf(status);
  const privileged = spec?.securityContext?.privileged;
  return {
    id: fullId,
    name: status.name ?? '',
    image,
    ...(startTime !== undefined ? { startTime } : {}),
    maybeExecProbe: false,
    ...(privileged !== undefined ? { securityContext: { privileged } } : {}),
  };
}

/**
 * When the container started, to the second as the kubelet reports it. Objects from a list are
 * deserialized (Date) while watch events carry the raw JSON (RFC 3339 string), so both are accepted.
 */
function startTimeOf(status: V1ContainerStatus): HrTime | undefined {
  const startedAt: unknown = status.state?.running?.startedAt ?? status.state?.terminated?.startedAt;
  let ms: number;
  if (startedAt instanceof Date) ms = startedAt.getTime();
  else if (typeof startedAt === 'string') ms = Date.parse(startedAt);
  else return undefined;
  if (!Number.isFinite(ms)) return undefined;
  return [Math.floor(ms / 1000), 0];
}

function execProbesOf(spec: SpecContainer | undefined): (readonly string[])[] {
  if (spec === undefined) return [];
  const probes: (V1Probe | undefined)[] = [spec.livenessProbe, spec.readinessProbe, spec.startupProbe];
  const commands: (readonly string[])[] = [];
  for (const probe of probes) {
    const command = probe?.exec?.command;
    if (command !== undefined && command.length > 0) commands.push([...command]);
  }
  return commands;
}

/** The process fields probe matching reads. */
export interface ProbeCandidate {
  readonly binary: string;
  readonly argv: readonly string[];
  readonly arguments: string;
}

/**
 * True when the process looks like one of the exec probes: the binary matches the probe's first word (the
 * full path when the probe gives one, else the base names) and the arguments match the rest. The faithful
 * argv is compared when the sensor captured it; otherwise Tetragon's space-joined `arguments` string.
 */
export function matchesExecProbe(process: ProbeCandidate, probes: readonly (readonly string[])[]): boolean {
  for (const probe of probes) {
    const probeBinary = probe[0];
    if (probeBinary === undefined) continue;
    const binaryMatches = probeBinary.startsWith('/')
      ? process.binary === probeBinary
      : baseName(process.binary) === baseName(probeBinary);
    if (!binaryMatches) continue;
    if (process.argv.length > 0) {
      if (argsEqual(process.argv, probe)) return true;
    } else if (process.arguments === probe.slice(1).join(' ')) {
      return true;
    }
  }
  return false;
}

/** argv[1..] against probe[1..]; argv[0] is whatever the runtime passed and was checked via the binary. */
function argsEqual(argv: readonly string[], probe: readonly string[]): boolean {
  if (argv.length !== probe.length) return false;
  for (let i = 1; i < argv.length; i++) if (argv[i] !== probe[i]) return false;
  return true;
}

function baseName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}
