// receiver/src/model/pod.ts
// Kubernetes pod and container metadata attached to a process (Tetragon's Pod, Container, Image messages).

import type { HrTime } from './hr-time.js';

export interface Image {
  /** containerStatus.imageID, e.g. docker.io/library/nginx@sha256:… */
  readonly id: string;
  /** containerStatus.image, e.g. nginx:latest */
  readonly name: string;
}

export interface Container {
  /** Full id with its runtime prefix, e.g. containerd://<64 hex>. */
  readonly id: string;
  readonly name: string;
  readonly image?: Image;
  /** When the container started running (second precision, from the pod status). */
  readonly startTime?: HrTime;
  /** The process's pid inside the container's pid namespace; omitted when 0. */
  readonly pid?: number;
  /** Binary and arguments match one of the container's exec probes. */
  readonly maybeExecProbe: boolean;
  readonly securityContext?: { readonly privileged: boolean };
}

export interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly container?: Container;
  readonly podLabels: Readonly<Record<string, string>>;
  /** Owning workload name (Deployment, DaemonSet, CronJob, … or the pod itself). */
  readonly workload: string;
  /** Kind of the owning workload, e.g. Deployment, or Pod. */
  readonly workloadKind: string;
  /** Only filled with --enable-pod-annotations. */
  readonly podAnnotations?: Readonly<Record<string, string>>;
}
