// receiver/src/enrich/pod-lookup.ts
// The contract between pod enrichment and whatever knows the pods (the informer's index, or a test double).

import type { Pod } from '../model/pod.js';
import type { Process } from '../model/process.js';

/** The process fields a pod lookup reads. */
export type PodLookupProcess = Pick<Process, 'containerId' | 'docker' | 'nspid' | 'binary' | 'argv' | 'arguments'>;

export interface PodLookup {
  /**
   * The Pod (with this process's container, pid and probe flag) for the process's container id; undefined
   * when the process is on the host or its container id is not known. The same process gets the same
   * object (or one of equal content) until the pod changes.
   * @param countLookup false for repeat lookups of one event, so lookup metrics count each event once.
   */
  podFor(process: PodLookupProcess, countLookup?: boolean): Pod | undefined;
  /** Subscribes to container ids newly known; returns the unsubscribe function. */
  onContainersIndexed(listener: (containerIds: readonly string[]) => void): () => void;
}
