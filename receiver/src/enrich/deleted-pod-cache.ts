// receiver/src/enrich/deleted-pod-cache.ts
// A bounded LRU of recently deleted pods (and retired containers) so late events still find their pod.

/** Most retired containers kept per pod, so a crash-looping pod cannot grow one entry without bound. */
export const MAX_RETIRED_CONTAINERS_PER_POD = 64;

/**
 * Keyed by pod uid, least recently retired first; each pod keeps its containers by id. Lookups are by
 * container id through a side map that eviction keeps in step.
 */
export class DeletedPodCache<T> {
  private readonly _pods = new Map<string, Map<string, T>>();
  private readonly _podOf = new Map<string, string>();

  /** @param capacity pods kept (--deleted-pod-cache-size); 0 disables the cache. */
  constructor(private readonly _capacity: number) {}

  /** Remembers a container of a deleted pod (or a container the pod replaced). */
  retire(podUid: string, containerId: string, value: T): void {
    if (this._capacity <= 0) return;
    let containers = this._pods.get(podUid);
    if (containers === undefined) {
      containers = new Map();
    } else {
      // Re-inserting moves the pod to the most recent end.
      this._pods.delete(podUid);
    }
    this._pods.set(podUid, containers);
    const previousOwner = this._podOf.get(containerId);
    if (previousOwner !== undefined && previousOwner !== podUid) {
      const previous = this._pods.get(previousOwner);
      previous?.delete(containerId);
      if (previous !== undefined && previous.size === 0) this._pods.delete(previousOwner);
    }
    containers.delete(containerId);
    containers.set(containerId, value);
    this._podOf.set(containerId, podUid);
    while (containers.size > MAX_RETIRED_CONTAINERS_PER_POD) {
      const oldest = containers.keys().next();
      if (oldest.done === true) break;
      containers.delete(oldest.value);
      this._podOf.delete(oldest.value);
    }
    while (this._pods.size > this._capacity) this._evictOldest();
  }

  get(containerId: string): T | undefined {
    const podUid = this._podOf.get(containerId);
    return podUid === undefined ? undefined : this._pods.get(podUid)?.get(containerId);
  }

  /** Forgets a container id (it is live again, e.g. a pod re-listed after a watch gap). */
  forget(containerId: string): void {
    const podUid = this._podOf.get(containerId);
    if (podUid === undefined) return;
    this._podOf.delete(containerId);
    const containers = this._pods.get(podUid);
    containers?.delete(containerId);
    if (containers !== undefined && containers.size === 0) this._pods.delete(podUid);
  }

  /** Container ids remembered, for a prefix scan when the id at hand is truncated. */
  containerIds(): IterableIterator<string> {
    return this._podOf.keys();
  }

  get podCount(): number {
    return this._pods.size;
  }

  get containerCount(): number {
    return this._podOf.size;
  }

  private _evictOldest(): void {
    const oldest = this._pods.entries().next();
    if (oldest.done === true) return;
    const [podUid, containers] = oldest.value;
    this._pods.delete(podUid);
    for (const containerId of containers.keys()) {
      if (this._podOf.get(containerId) === podUid) this._podOf.delete(containerId);
    }
  }
}
