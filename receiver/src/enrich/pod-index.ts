// receiver/src/enrich/pod-index.ts
// Container id → pod and container status for the pods of this node, fed by the informer.

import type { V1Pod } from '@kubernetes/client-node';
import type { Container, Pod } from '../model/pod.js';
import { DeletedPodCache } from './deleted-pod-cache.js';
import type { K8sMetrics } from './k8s-metrics.js';
import { containerRecordsOf, matchesExecProbe } from './pod-info.js';
import type { PodContainerRecord } from './pod-info.js';
import type { PodLookup, PodLookupProcess } from './pod-lookup.js';

/** Full container ids are 64 hex digits; shorter ones come from truncated cgroup names. */
const FULL_ID_LENGTH = 64;
/** Shortest id worth a prefix scan (Tetragon's docker field length). */
const MIN_PREFIX_LENGTH = 31;
/** Pod objects cached per container (one per pid-in-namespace and probe flag), then started afresh. */
const MAX_VARIANTS_PER_CONTAINER = 256;

export interface PodIndexOptions {
  /** Recently deleted pods kept for late events (--deleted-pod-cache-size, default 1024). */
  readonly deletedPodCacheSize: number;
  /** Copy pod annotations into events (--enable-pod-annotations). */
  readonly enablePodAnnotations: boolean;
  readonly metrics: K8sMetrics;
}

interface IndexedContainer {
  readonly record: PodContainerRecord;
  /** Pod objects already built for this container, keyed by nspid * 2 + probe flag. */
  readonly variants: Map<number, Pod>;
}

/**
 * The index the enricher reads on every event: one Map lookup by the cgroup-derived id. Pod updates
 * replace a container's record only when what we emit changes, so unchanged pods keep handing out the
 * same Pod objects.
 */
export class PodIndex implements PodLookup {
  private readonly _byContainer = new Map<string, IndexedContainer>();
  private readonly _containersOfPod = new Map<string, Set<string>>();
  private readonly _uidByName = new Map<string, string>();
  private readonly _deleted: DeletedPodCache<IndexedContainer>;
  private readonly _listeners = new Set<(ids: readonly string[]) => void>();

  constructor(private readonly _options: PodIndexOptions) {
    this._deleted = new DeletedPodCache(_options.deletedPodCacheSize);
    const metrics = _options.metrics;
    metrics.observePods(() => metrics.podsIndexed.set(this._uidByName.size));
    metrics.containersIndexed.onCollect(() => metrics.containersIndexed.set(this._byContainer.size));
    metrics.deletedPodsCached.onCollect(() => metrics.deletedPodsCached.set(this._deleted.podCount));
  }

  /** Adds or updates a pod (informer add/update). */
  upsert(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (uid === undefined || uid === '') return;
    const nameKey = podKeyOf(pod);
    const previousUid = this._uidByName.get(nameKey);
    // Same name, new uid: the old pod was deleted and recreated while no watch saw it (StatefulSets).
    if (previousUid !== undefined && previousUid !== uid) this._retirePod(previousUid);
    this._uidByName.set(nameKey, uid);

    const records = containerRecordsOf(pod, this._options);
    const previousIds = this._containersOfPod.get(uid);
    const ids = new Set<string>();
    const added: string[] = [];
    for (const record of records) {
      ids.add(record.id);
      const existing = this._byContainer.get(record.id);
      if (existing !== undefined && existing.record.fingerprint === record.fingerprint) continue;
      this._byContainer.set(record.id, { record, variants: new Map() });
      if (existing === undefined) {
        this._deleted.forget(record.id);
        added.push(record.id);
      }
    }
    if (previousIds !== undefined) {
      for (const id of previousIds) if (!ids.has(id)) this._retireContainer(uid, id);
    }
    if (ids.size > 0) this._containersOfPod.set(uid, ids);
    else this._containersOfPod.delete(uid);
    if (added.length > 0) this._notify(added);
  }

  /** Removes a deleted pod; its containers stay findable in the deleted-pod cache. */
  remove(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (uid === undefined || uid === '') return;
    const nameKey = podKeyOf(pod);
    if (this._uidByName.get(nameKey) === uid) this._uidByName.delete(nameKey);
    this._retirePod(uid);
  }

  podFor(process: PodLookupProcess, countLookup = true): Pod | undefined {
    const id = process.containerId !== '' ? process.containerId : process.docker;
    if (id === '') return undefined;
    const entry = this._find(id, countLookup);
    if (entry === undefined) return undefined;
    const record = entry.record;
    const probe = record.execProbes.length > 0 && matchesExecProbe(process, record.execProbes);
    const nspid = process.nspid > 0 ? process.nspid : 0;
    const key = nspid * 2 + (probe ? 1 : 0);
    let pod = entry.variants.get(key);
    if (pod === undefined) {
      if (entry.variants.size >= MAX_VARIANTS_PER_CONTAINER) entry.variants.clear();
      pod = buildPod(record, nspid, probe);
      entry.variants.set(key, pod);
    }
    return pod;
  }

  onContainersIndexed(listener: (containerIds: readonly string[]) => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** Pods of this node known to the index (with or without container ids yet). */
  get podCount(): number {
    return this._uidByName.size;
  }

  get containerCount(): number {
    return this._byContainer.size;
  }

  get deletedPodCount(): number {
    return this._deleted.podCount;
  }

  private _find(id: string, countLookup: boolean): IndexedContainer | undefined {
    let entry = this._byContainer.get(id);
    let result: 'hit' | 'hit_deleted' | 'miss' = 'hit';
    if (entry === undefined) {
      entry = this._deleted.get(id);
      result = 'hit_deleted';
    }
    if (entry === undefined && id.length >= MIN_PREFIX_LENGTH && id.length < FULL_ID_LENGTH) {
      // A truncated cgroup name: rare, so a scan is fine.
      entry = this._findByPrefix(id);
      result = entry !== undefined && this._byContainer.has(entry.record.id) ? 'hit' : 'hit_deleted';
    }
    if (entry === undefined) result = 'miss';
    if (countLookup) this._options.metrics.countLookup(result);
    return entry;
  }

  private _findByPrefix(prefix: string): IndexedContainer | undefined {
    for (const [id, entry] of this._byContainer) if (id.startsWith(prefix)) return entry;
    for (const id of this._deleted.containerIds()) if (id.startsWith(prefix)) return this._deleted.get(id);
    return undefined;
  }

  private _retirePod(uid: string): void {
    const ids = this._containersOfPod.get(uid);
    if (ids === undefined) return;
    for (const id of ids) this._retireContainer(uid, id);
    this._containersOfPod.delete(uid);
  }

  private _retireContainer(uid: string, id: string): void {
    const entry = this._byContainer.get(id);
    if (entry === undefined || entry.record.podUid !== uid) return;
    this._byContainer.delete(id);
    this._deleted.retire(uid, id, entry);
  }

  private _notify(ids: readonly string[]): void {
    for (const listener of this._listeners) listener(ids);
  }
}

function podKeyOf(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** Builds the Pod model in the field order of Tetragon's messages. */
function buildPod(record: PodContainerRecord, nspid: number, maybeExecProbe: boolean): Pod {
  const base = record.base;
  const c = record.container;
  const container: Container = {
    id: c.id,
    name: c.name,
    ...(c.image !== undefined ? { image: c.image } : {}),
    ...(c.startTime !== undefined ? { startTime: c.startTime } : {}),
    ...(nspid > 0 ? { pid: nspid } : {}),
    maybeExecProbe,
    ...(c.securityContext !== undefined ? { securityContext: c.securityContext } : {}),
  };
  return {
    namespace: base.namespace,
    name: base.name,
    uid: base.uid,
    container,
    podLabels: base.podLabels,
    workload: base.workload,
    workloadKind: base.workloadKind,
    ...(base.podAnnotations !== undefined ? { podAnnotations: base.podAnnotations } : {}),
  };
}
