// receiver/src/enrich/pod-informer.ts
// List + watch of this node's pods (spec.nodeName field selector) feeding the PodIndex, surviving API outages.

import { CoreV1Api, ListWatch, Watch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, V1Pod } from '@kubernetes/client-node';
import { getErrorMessage, KubernetesError } from '../errors.js';
import { RateLimitedWarner } from '../logger.js';
import type { Logger } from '../logger.js';
import type { K8sMetrics, WatchRestartReason } from './k8s-metrics.js';

/** What the informer feeds: the PodIndex, or a test double. */
export interface PodSink {
  upsert(pod: V1Pod): void;
  remove(pod: V1Pod): void;
}

export interface BackoffOptions {
  /** First delay after a failure. Default 500 ms. */
  readonly initialMs: number;
  /** Ceiling of the doubling delay. Default 30 s. */
  readonly maxMs: number;
}

export interface PodInformerOptions {
  readonly kubeConfig: KubeConfig;
  /** Only pods with spec.nodeName equal to this are listed and watched. */
  readonly nodeName: string;
  readonly sink: PodSink;
  readonly logger: Logger;
  readonly metrics: K8sMetrics;
  /** Keep metadata.annotations on cached pods (--enable-pod-annotations); dropped otherwise to save memory. */
  readonly keepAnnotations: boolean;
  readonly backoff?: BackoffOptions;
  /** Asked of the API server so a silently dead connection is replaced. Default 300 s. */
  readonly watchTimeoutSeconds?: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };
/** A watch that ends sooner than this after it started is retried with backoff, not at once. */
const MIN_HEALTHY_WATCH_MS = 1_000;
const PODS_PATH = '/api/v1/pods';

type WatchCallback = Parameters<Watch['watch']>[2];
type WatchDone = Parameters<Watch['watch']>[3];
type WatchQuery = Parameters<Watch['watch']>[1];

/**
 * Wraps @kubernetes/client-node's ListWatch, which keeps its own object cache and re-lists on 410 Gone,
 * but stops for good on any other error and re-watches at once when a stream ends. Here every error
 * leads to a restart after an exponential, jittered backoff, a quickly closing stream is retried with
 * backoff too, and pods are trimmed (managedFields, annotations) before they are cached.
 */
export class PodInformer {
  private readonly _listWatch: ListWatch<V1Pod>;
  private readonly _api: CoreV1Api;
  private readonly _backoff: BackoffOptions;
  private readonly _warner: RateLimitedWarner;
  private _failures = 0;
  private _restartTimer: NodeJS.Timeout | undefined;
  private _stopped = true;
  private _synced = false;
  private _listedSinceWatch = false;
  private _syncWaiters: (() => void)[] = [];

  constructor(private readonly _options: PodInformerOptions) {
    this._backoff = _options.backoff ?? DEFAULT_BACKOFF;
    this._warner = new RateLimitedWarner(_options.logger);
    this._api = _options.kubeConfig.makeApiClient(CoreV1Api);
    const watch = new ResilientWatch(_options.kubeConfig, this, _options.watchTimeoutSeconds ?? 300);
    this._listWatch = new ListWatch<V1Pod>(
      PODS_PATH,
      watch,
      () => this._list(),
      false,
      undefined,
      `spec.nodeName=${_options.nodeName}`,
    );
    const sink = _options.sink;
    this._listWatch.on('add', (pod) => sink.upsert(pod));
    this._listWatch.on('update', (pod) => sink.upsert(pod));
    this._listWatch.on('delete', (pod) => sink.remove(pod));
    this._listWatch.on('error', (error: unknown) => this._onError(error));
  }

  /** Starts listing and watching; never throws for API trouble (it retries in the background). */
  start(): void {
    if (!this._stopped) return;
    this._stopped = false;
    this._startListWatch();
    void this._checkNode();
  }

  /** True once the first list has been applied. */
  get synced(): boolean {
    return this._synced;
  }

  /** Resolves true when synced, or false after timeoutMs (the agent goes on either way). */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this._synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this._syncWaiters = this._syncWaiters.filter((w) => w !== onSync);
        resolve(false);
      }, timeoutMs);
      const onSync = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this._syncWaiters.push(onSync);
    });
  }

  async stop(): Promise<void> {
    this._stopped = true;
    if (this._restartTimer !== undefined) clearTimeout(this._restartTimer);
    this._restartTimer = undefined;
    await this._listWatch.stop();
  }

  /** @internal ResilientWatch asks before each watch request. */
  get stopped(): boolean {
    return this._stopped;
  }

  /** @internal A watch request is about to start; the list before it (if any) has been applied. */
  watchStarting(): void {
    if (this._listedSinceWatch) {
      this._listedSinceWatch = false;
      if (!this._synced) {
        this._synced = true;
        this._options.metrics.informerSynced.set(1);
        this._options.logger.info('PodInformer: pods indexed', { 'k8s.node.name': this._options.nodeName });
        for (const waiter of this._syncWaiters) waiter();
        this._syncWaiters = [];
      }
    }
  }

  /** @internal A watch stream ended; counts it. */
  watchEnded(reason: Exclude<WatchRestartReason, 'list_error'>, lastedMs: number): void {
    if (this._stopped) return;
    this._options.metrics.watchRestarts.inc({ reason });
    if (reason === 'closed' && lastedMs >= MIN_HEALTHY_WATCH_MS) this._failures = 0;
  }

  /** @internal The delay before re-watching after a stream that closed quickly (hot-loop guard). */
  nextDelay(): number {
    const exp = Math.min(this._backoff.maxMs, this._backoff.initialMs * 2 ** Math.min(this._failures, 30));
    this._failures++;
    // ±20 % jitter so a fleet of agents does not hammer a recovering API server in step.
    return Math.round(exp * (0.8 + Math.random() * 0.4));
  }

  /** @internal Trims a pod before ListWatch caches it. */
  trim(pod: V1Pod): V1Pod {
    const metadata = pod.metadata;
    if (metadata !== undefined) {
      delete metadata.managedFields;
      if (!this._options.keepAnnotations) delete metadata.annotations;
    }
    return pod;
  }

  private async _list(): Promise<KubernetesListObject<V1Pod>> {
    try {
      const list = await this._api.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${this._options.nodeName}` });
      for (const pod of list.items) this.trim(pod);
      this._failures = 0;
      this._listedSinceWatch = true;
      return list;
    } catch (error: unknown) {
      if (!this._stopped) this._options.metrics.watchRestarts.inc({ reason: 'list_error' });
      throw error;
    }
  }

  private _startListWatch(): void {
    // ListWatch.start only rejects for failures outside its own handling (e.g. credentials that cannot be
    // applied); treat them like any other error.
    this._listWatch.start().catch((error: unknown) => this._onError(error));
  }

  private _onError(error: unknown): void {
    if (this._stopped) return;
    const delay = this.nextDelay();
    const wrapped = new KubernetesError(`pod list/watch failed: ${getErrorMessage(error)}`, { cause: error });
    this._warner.warn('list-watch', 'PodInformer: list/watch failed; retrying', {
      'error.code': wrapped.code,
      'error.message': wrapped.message,
      'retry.delay_ms': delay,
    });
    if (this._restartTimer !== undefined) clearTimeout(this._restartTimer);
    this._restartTimer = setTimeout(() => {
      this._restartTimer = undefined;
      if (!this._stopped) this._startListWatch();
    }, delay);
    this._restartTimer.unref();
  }

  /** A wrong NODE_NAME silently matches no pod; say so once. */
  private async _checkNode(): Promise<void> {
    try {
      await this._api.readNode({ name: this._options.nodeName });
    } catch (error: unknown) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
      if (code === 404) {
        this._options.logger.warn('PodInformer: no Kubernetes node has this name; pods will not be attributed (check NODE_NAME)', {
          'k8s.node.name': this._options.nodeName,
        });
      } else {
        this._options.logger.debug('PodInformer: node lookup failed', { 'error.message': getErrorMessage(error) });
      }
    }
  }
}

/**
 * The watch half of ListWatch: asks for bookmarks and a server-side timeout, trims objects, notices 410s
 * sent inside the stream, and delays re-watching after a stream that ended too soon.
 */
class ResilientWatch extends Watch {
  /** How long the previous watch lasted, when it ended cleanly (errors are backed off by PodInformer). */
  private _lastCleanEndMs: number | undefined;

  constructor(
    config: KubeConfig,
    private readonly _informer: PodInformer,
    private readonly _timeoutSeconds: number,
  ) {
    super(config);
  }

  override async watch(path: string, query: WatchQuery, callback: WatchCallback, done: WatchDone): Promise<AbortController> {
    const lasted = this._lastCleanEndMs;
    if (lasted !== undefined && lasted < MIN_HEALTHY_WATCH_MS) {
      await sleep(this._informer.nextDelay());
    }
    if (this._informer.stopped) {
      // ListWatch was stopped while we waited: hand back a controller for a request never made.
      const controller = new AbortController();
      controller.abort();
      return controller;
    }
    this._informer.watchStarting();
    const startedAt = Date.now();
    let gone = false;
    const onEvent: WatchCallback = (phase, object, watchObject) => {
      if (phase === 'ERROR' && isGone(object)) gone = true;
      if ((phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') && isPod(object)) {
        this._informer.trim(object);
      }
      callback(phase, object, watchObject);
    };
    const onDone: WatchDone = (error: unknown) => {
      const lastedMs = Date.now() - startedAt;
      const reason = gone || isGone(error) ? 'gone' : error === null || error === undefined ? 'closed' : 'error';
      // Errors are retried with backoff by PodInformer's error handler and 410s relist at once: only a
      // clean close can turn into a hot loop here.
      this._lastCleanEndMs = reason === 'closed' ? lastedMs : undefined;
      this._informer.watchEnded(reason, lastedMs);
      done(error);
    };
    const controller = await super.watch(
      path,
      { ...query, allowWatchBookmarks: true, timeoutSeconds: this._timeoutSeconds },
      onEvent,
      onDone,
    );
    // ListWatch only learns of the request once this resolves (after the response headers); a stop in
    // between would find nothing to abort and leave the stream open.
    if (this._informer.stopped) controller.abort();
    return controller;
  }
}

function isGone(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { code?: unknown; statusCode?: unknown };
  return v.code === 410 || v.statusCode === 410;
}

function isPod(value: unknown): value is V1Pod {
  return typeof value === 'object' && value !== null && 'metadata' in value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
