// receiver/src/enrich/workload.ts
// The workload that owns a pod (Deployment, CronJob, DaemonSet, StatefulSet, Job, … or the pod itself).

/** The owner reference fields workload derivation reads. */
export interface OwnerReferenceLike {
  readonly kind?: string | undefined;
  readonly name?: string | undefined;
  readonly controller?: boolean | undefined;
}

/** The pod metadata fields workload derivation reads (a V1ObjectMeta satisfies it). */
export interface PodMetadataLike {
  readonly name?: string | undefined;
  readonly generateName?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly ownerReferences?: readonly OwnerReferenceLike[] | undefined;
}

/** A workload's name and kind, as Tetragon's `workload` and `workload_kind`. */
export interface Workload {
  readonly name: string;
  readonly kind: string;
}

/** Label the Deployment controller puts on its ReplicaSets' pods; the ReplicaSet name ends with it. */
const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Label OpenShift puts on pods of a DeploymentConfig. */
const DEPLOYMENT_CONFIG_LABEL = 'deploymentconfig';
/** A CronJob names its Jobs `<cronjob>-<scheduled time in minutes>`; Tetragon accepts 8 to 10 digits. */
const CRONJOB_JOB_NAME_RE = /^(.+)-\d{8,10}$/;

/**
 * Derives the workload owning a pod, following Tetragon's rules: only pods made by a controller (they have
 * `generateName` and a controller owner reference) get their owner; a ReplicaSet whose name ends with the
 * pod's `pod-template-hash` is reported as its Deployment, a ReplicationController with a
 * `deploymentconfig` label as that DeploymentConfig, and a Job named like a CronJob's run as the CronJob.
 * Everything else (bare pods, static pods) is its own workload of kind `Pod`.
 */
export function workloadOf(metadata: PodMetadataLike): Workload {
  const podName = metadata.name ?? '';
  const self: Workload = { name: podName, kind: 'Pod' };
  if (metadata.generateName === undefined || metadata.generateName === '') return self;
  const owner = metadata.ownerReferences?.find((ref) => ref.controller === true);
  if (owner === undefined || owner.kind === undefined || owner.name === undefined) return self;
  const labels = metadata.labels ?? {};
  switch (owner.kind) {
    case 'ReplicaSet': {
      const hash = labels[POD_TEMPLATE_HASH_LABEL];
      const suffix = `-${hash ?? ''}`;
      if (hash !== undefined && hash !== '' && owner.name.endsWith(suffix)) {
        return { name: owner.name.slice(0, -suffix.length), kind: 'Deployment' };
      }
      return { name: owner.name, kind: 'ReplicaSet' };
    }
    case 'ReplicationController': {
      const config = labels[DEPLOYMENT_CONFIG_LABEL];
      if (config !== undefined && config !== '') return { name: config, kind: 'DeploymentConfig' };
      return { name: owner.name, kind: 'ReplicationController' };
    }
    case 'Job': {
      const match = CRONJOB_JOB_NAME_RE.exec(owner.name);
      if (match?.[1] !== undefined) return { name: match[1], kind: 'CronJob' };
      return { name: owner.name, kind: 'Job' };
    }
    default:
      return { name: owner.name, kind: owner.kind };
  }
}
