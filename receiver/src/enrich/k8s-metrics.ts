// receiver/src/enrich/k8s-metrics.ts
// The execscope_k8s_* metrics, registered once per agent and shared by the index, informer and enricher.

import type { Counter, Gauge, MetricsRegistry } from '../metrics.js';

/** Why the informer had to list or watch again. */
export type WatchRestartReason = 'closed' | 'gone' | 'error' | 'list_error';

/** Outcome of one container-id lookup. */
export type LookupResult = 'hit' | 'hit_deleted' | 'miss';

export class K8sMetrics {
  /** Pods with at least one container id in the index. */
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
  }
}
