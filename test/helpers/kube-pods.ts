// test/helpers/kube-pods.ts
// Builds Kubernetes Pod objects (as the API server serves them) for enrichment tests.

import type { V1Pod } from '@kubernetes/client-node';

export interface FakeContainer {
  readonly name: string;
  /** 64-hex id, without runtime prefix; omitted while the container is being created. */
  readonly id?: string;
  readonly runtime?: string;
  readonly image?: string;
  readonly startedAt?: string;
  readonly livenessCommand?: readonly string[];
  readonly readinessCommand?: readonly string[];
  readonly privileged?: boolean;
}

export interface FakePodOptions {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly node: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly owner?: { readonly kind: string; readonly name: string };
  readonly containers?: readonly FakeContainer[];
  readonly initContainers?: readonly FakeContainer[];
  readonly ephemeralContainers?: readonly FakeContainer[];
}

/** A deterministic 64-hex container id from a seed. */
export function hexId(seed: number): string {
  let out = '';
  let x = (seed * 2654435761) >>> 0 || 1;
  while (out.length < 64) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += x.toString(16).padStart(8, '0');
  }
  return out.slice(0, 64);
}

export function fakePod(options: FakePodOptions): V1Pod {
  const namespace = options.namespace ?? 'default';
  const uid = options.uid ?? `uid-${namespace}-${options.name}`;
  const spec = (c: FakeContainer): Record<string, unknown> => ({
    name: c.name,
    image: c.image ?? 'docker.io/library/busybox:1.36',
    ...(c.livenessCommand !== undefined ? { livenessProbe: { exec: { command: [...c.livenessCommand] } } } : {}),
    ...(c.readinessCommand !== undefined ? { readinessProbe: { exec: { command: [...c.readinessCommand] } } } : {}),
    ...(c.privileged !== undefined ? { securityContext: { privileged: c.privileged } } : {}),
  });
  const statusOf = (c: FakeContainer): Record<string, unknown> => ({
    name: c.name,
    image: c.image ?? 'docker.io/library/busybox:1.36',
    imageID: `docker.io/library/busybox@sha256:${hexId(c.name.length + 7)}`,
    ready: c.id !== undefined,
    restartCount: 0,
    ...(c.id !== undefined ? { containerID: `${c.runtime ?? 'containerd'}://${c.id}` } : {}),
    state:
      c.id !== undefined
        ? { running: { startedAt: c.startedAt ?? '2024-05-01T10:00:00Z' } }
        : { waiting: { reason: 'ContainerCreating' } },
  });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      namespace,
      uid,
      labels: options.labels ?? {},
      ...(options.annotations !== undefined ? { annotations: options.annotations } : {}),
      ...(options.owner !== undefined
        ? {
            generateName: `${options.owner.name}-`,
            ownerReferences: [{ apiVersion: 'apps/v1', kind: options.owner.kind, name: options.owner.name, uid: `${uid}-owner`, controller: true }],
          }
        : {}),
      managedFields: [{ manager: 'kubelet', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': {} } }],
    },
    spec: {
      nodeName: options.node,
      containers: (options.containers ?? []).map(spec),
      ...(options.initContainers !== undefined ? { initContainers: options.initContainers.map(spec) } : {}),
      ...(options.ephemeralContainers !== undefined ? { ephemeralContainers: options.ephemeralContainers.map(spec) } : {}),
    },
    status: {
      phase: 'Running',
      containerStatuses: (options.containers ?? []).map(statusOf),
      ...(options.initContainers !== undefined ? { initContainerStatuses: options.initContainers.map(statusOf) } : {}),
      ...(options.ephemeralContainers !== undefined ? { ephemeralContainerStatuses: options.ephemeralContainers.map(statusOf) } : {}),
    },
  };
  // Raw JSON as the API server sends it (timestamps are strings), not the client's deserialized classes.
  return pod as unknown as V1Pod;
}
