// receiver/src/enrich/k8s-metrics.ts
// The execscope_k8s_* metrics, registered once per agent and shared by the index, informer and enricher.

import type { Counter, Gauge, MetricsRegistry } from '../metrics.js';

/** Why the informer had to list or watch again. */
export type WatchRestartReason = 'closed' | 'gone' | 'error' | 'list_error';

/** Outcome of one container-id lookup. */
export type LookupResult = 'hit' | 'hit_deleted' | 'miss';

const LOOKUP_RESULTS: readonly LookupResult[] = ['hit', 'hit_deleted', 'miss'];

export class K8sMetrics {
  /** Pods of this node known to the index. */
  readonly podsIndexed: Gauge;
  /** Container ids in the index (containers, init and ephemeral containers of live pods). */
  readonly containersIndexed: Gauge;
  /** Pods in the recently-deleted cache. */
  readonly deletedPodsCached: Gauge;
  /** 1 once the first list has been indexed, 0 before. */
  readonly informerSynced: Gauge;
  readonly watchRestarts: Counter;
  readonly lookups: Counter;
  /** Events currently held back waiting for their pod. */
  readonly eventsHeld: Gauge;
  readonly eventsHeldTotal: Counter;
  readonly eventsReleasedUnresolved: Counter;
  /**
   * Lookup counts gathered on the hot path and moved into `lookups` at scrape time: a labelled inc costs
   * more than the lookup itself.
   */
  private readonly _pendingLookups: Record<LookupResult, number> = { hit: 0, hit_deleted: 0, miss: 0 };
  private _refreshPods: (() => void) | undefined;

  constructor(registry: MetricsRegistry) {
    this.podsIndexed = registry.gauge('execscope_k8s_pods_indexed', 'Pods of this node in the container-id index.');
    this.containersIndexed = registry.gauge(
      'execscope_k8s_containers_indexed',
      'Container ids of this node in the index (containers, init and ephemeral containers).',
    );
    this.deletedPodsCached = registry.gauge(
      'execscope_k8s_deleted_pods_cached',
      'Recently deleted pods kept so late events still find their pod.',
    );
    this.informerSynced = registry.gauge('execscope_k8s_informer_synced', '1 once the pod list has been indexed.');
    this.watchRestarts = registry.counter(
      'execscope_k8s_watch_restarts_total',
      'Pod list/watch restarts by reason (closed, gone = 410 relist, error, list_error).',
    );
    this.lookups = registry.counter(
      'execscope_k8s_pod_lookups_total',
      'Container-id lookups by result (hit, hit_deleted, miss).',
    );
    this.eventsHeld = registry.gauge('execscope_k8s_events_held', 'Events currently held back waiting for their pod.');
    this.eventsHeldTotal = registry.counter(
      'execscope_k8s_events_held_total',
      'Events held back because their container id was not yet known.',
    );
    this.eventsReleasedUnresolved = registry.counter(
      'execscope_k8s_events_released_unresolved_total',
      'Held events emitted without their pod after --k8s-pod-wait.',
    );
    // podsIndexed was registered before lookups, so it is collected before lookups is rendered.
    this.podsIndexed.onCollect(() => {
      this.flushLookups();
      this._refreshPods?.();
    });
  }

  /** Sets how podsIndexed is refreshed at scrape time (the index calls this once). */
  observePods(refresh: () => void): void {
    this._refreshPods = refresh;
  }

  /** Counts one lookup (hot path: a plain increment). */
  countLookup(result: LookupResult): void {
    this._pendingLookups[result]++;
  }

  /** Moves pending lookup counts into the counter. */
  flushLookups(): void {
    for (const result of LOOKUP_RESULTS) {
      const n = this._pendingLookups[result];
      if (n > 0) {
        this.lookups.inc({ result }, n);
        this._pendingLookups[result] = 0;
      }
    }
  }

  /** Lookups so far with this result, pending ones included. */
  lookupCount(result: LookupResult): number {
    return this.lookups.get({ result }) + this._pendingLookups[result];
  }
}
