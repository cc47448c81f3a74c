// receiver/src/enrich/pod-enricher.ts
// Adds pods to events, holding an event briefly (in per-process order) while its container is not yet known.

import type { EventEnricher } from '../cli/agent-feature.js';
import { isProcessEvent, type ExecscopeEvent, type ProcessExecEvent, type ProcessExitEvent } from '../model/events.js';
import type { Process } from '../model/process.js';
import { getErrorMessage } from '../errors.js';
import { RateLimitedWarner } from '../logger.js';
import type { Logger } from '../logger.js';
import type { K8sMetrics } from './k8s-metrics.js';
import type { PodLookup } from './pod-lookup.js';

/** Default --k8s-pod-wait: long enough for the kubelet to report a new container's id, short for users. */
export const DEFAULT_POD_WAIT_MS = 2_000;
const DEFAULT_GIVE_UP_TTL_MS = 60_000;
const DEFAULT_GIVE_UP_CACHE_SIZE = 4_096;

export interface PodEnricherOptions {
  readonly lookup: PodLookup;
  readonly metrics: K8sMetrics;
  readonly logger: Logger;
  /** Longest time an event waits for its container's pod (--k8s-pod-wait). Default 2 s; 0 never holds. */
  readonly podWaitMs?: number;
  /**
   * After a wait for a container id ran out, further events of that container pass straight through for
   * this long (containers started outside Kubernetes on a node would otherwise delay every event).
   * Default 60 s. The pod is still attached as soon as the informer knows it.
   */
  readonly giveUpTtlMs?: number;
  /** Most given-up container ids remembered. Default 4096. */
  readonly giveUpCacheSize?: number;
  /** Monotonic milliseconds (tests). */
  readonly now?: () => number;
}

type ProcessEvent = ProcessExecEvent | ProcessExitEvent;

interface HeldEntry {
  readonly event: ProcessEvent;
  readonly emit: (event: ExecscopeEvent) => void;
  /** The process's exec_id: events of one process are released in the order they came. */
  readonly chainKey: string;
  readonly deadline: number;
  /** Container ids whose pods this event still waits for. */
  readonly waiting: Set<string>;
  released: boolean;
}

/** Result of attaching pods: the (possibly new) event and the container ids still unknown. */
interface Resolution {
  readonly event: ProcessEvent;
  readonly missing: Set<string> | undefined;
}

/**
 * The Kubernetes EventEnricher. Tetragon retries for up to ~30 s and may reorder events; here an event
 * whose container id the informer does not know waits at most `podWaitMs`, is released the moment the
 * pod arrives, and never overtakes an earlier event of the same process. Events of host processes and of
 * known containers go straight through.
 */
export class PodEnricher implements EventEnricher {
  private readonly _lookup: PodLookup;
  private readonly _metrics: K8sMetrics;
  private readonly _warner: RateLimitedWarner;
  private readonly _podWaitMs: number;
  private readonly _giveUpTtlMs: number;
  private readonly _giveUpCacheSize: number;
  private readonly _now: () => number;
  private readonly _chains = new Map<string, HeldEntry[]>();
  private readonly _waitingOn = new Map<string, Set<HeldEntry>>();
  /** Given-up container id → when to start waiting for it again. */
  private readonly _givenUp = new Map<string, number>();
  /** Held entries in arrival order (so deadlines ascend); released ones are skipped lazily. */
  private _queue: HeldEntry[] = [];
  private _queueHead = 0;
  private _heldCount = 0;
  private _timer: NodeJS.Timeout | undefined;
  private _closed = false;
  private readonly _unsubscribe: () => void;
  /** Enriched copies by source process: parents and exiting processes are the process cache's objects. */
  private readonly _withPodCache = new WeakMap<Process, Process>();

  constructor(options: PodEnricherOptions) {
    this._lookup = options.lookup;
    this._metrics = options.metrics;
    this._warner = new RateLimitedWarner(options.logger);
    this._podWaitMs = options.podWaitMs ?? DEFAULT_POD_WAIT_MS;
    this._giveUpTtlMs = options.giveUpTtlMs ?? DEFAULT_GIVE_UP_TTL_MS;
    this._giveUpCacheSize = options.giveUpCacheSize ?? DEFAULT_GIVE_UP_CACHE_SIZE;
    this._now = options.now ?? (() => performance.now());
    this._metrics.eventsHeld.onCollect(() => this._metrics.eventsHeld.set(this._heldCount));
    this._unsubscribe = this._lookup.onContainersIndexed((ids) => this._onIndexed(ids));
  }

  enrich(event: ExecscopeEvent, emit: (event: ExecscopeEvent) => void): void {
    if (!isProcessEvent(event)) {
      emit(event);
      return;
    }
    const chain = this._chains.get(event.process.execId);
    const resolution = this._resolve(event, true);
    // A wait of 0 turns holding off: events go out with whatever is known.
    if (this._closed || this._podWaitMs === 0 || (resolution.missing === undefined && chain === undefined)) {
      emit(resolution.event);
      return;
    }
    this._hold(event, emit, resolution.missing, chain);
  }

  async close(_timeoutMs: number): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    this._unsubscribe();
    if (this._timer !== undefined) clearTimeout(this._timer);
    this._timer = undefined;
    // Arrival order keeps every process's own order.
    for (let i = this._queueHead; i < this._queue.length; i++) {
      const entry = this._queue[i];
      if (entry !== undefined && !entry.released) this._release(entry);
    }
    this._queue = [];
    this._queueHead = 0;
    this._chains.clear();
    this._waitingOn.clear();
  }

  /** Events currently held (tests, metrics). */
  get heldCount(): number {
    return this._heldCount;
  }

  private _hold(
    event: ProcessEvent,
    emit: (event: ExecscopeEvent) => void,
    missing: Set<string> | undefined,
    chain: HeldEntry[] | undefined,
  ): void {
    const entry: HeldEntry = {
      event,
      emit,
      chainKey: event.process.execId,
      deadline: this._now() + this._podWaitMs,
      waiting: missing ?? new Set(),
      released: false,
    };
    if (chain === undefined) this._chains.set(entry.chainKey, [entry]);
    else chain.push(entry);
    for (const id of entry.waiting) {
      let waiters = this._waitingOn.get(id);
      if (waiters === undefined) {
        waiters = new Set();
        this._waitingOn.set(id, waiters);
      }
      waiters.add(entry);
    }
    this._queue.push(entry);
    this._heldCount++;
    this._metrics.eventsHeldTotal.inc();
    this._schedule();
  }

  private _onIndexed(ids: readonly string[]): void {
    const chains = new Set<string>();
    for (const id of ids) {
      this._givenUp.delete(id);
      const waiters = this._waitingOn.get(id);
      if (waiters === undefined) continue;
      this._waitingOn.delete(id);
      for (const entry of waiters) {
        entry.waiting.delete(id);
        chains.add(entry.chainKey);
      }
    }
    for (const key of chains) this._drain(key);
  }

  /** Releases a chain's leading events that wait for nothing more. */
  private _drain(chainKey: string): void {
    const chain = this._chains.get(chainKey);
    if (chain === undefined) return;
    while (chain.length > 0 && chain[0]!.waiting.size === 0) this._release(chain.shift()!);
    if (chain.length === 0) this._chains.delete(chainKey);
  }

  private _release(entry: HeldEntry): void {
    entry.released = true;
    this._heldCount--;
    const resolution = this._resolve(entry.event, false);
    if (isUnresolved(resolution.event.process) || (resolution.event.parent !== undefined && isUnresolved(resolution.event.parent))) {
      this._metrics.eventsReleasedUnresolved.inc();
    }
    this._emit(entry.emit, resolution.event);
  }

  private _emit(emit: (event: ExecscopeEvent) => void, event: ExecscopeEvent): void {
    try {
      emit(event);
    } catch (error: unknown) {
      // A throwing sink must not leave other held events stuck.
      this._warner.warn('emit', 'PodEnricher: emit threw', { 'error.message': getErrorMessage(error) });
    }
  }

  private _schedule(): void {
    if (this._timer !== undefined || this._closed) return;
    const head = this._peekHead();
    if (head === undefined) return;
    const delay = Math.max(0, head.deadline - this._now());
    this._timer = setTimeout(() => this._onTimer(), Math.ceil(delay));
    this._timer.unref();
  }

  private _peekHead(): HeldEntry | undefined {
    while (this._queueHead < this._queue.length) {
      const entry = this._queue[this._queueHead];
      if (entry !== undefined && !entry.released) return entry;
      this._queueHead++;
    }
    this._queue = [];
    this._queueHead = 0;
    return undefined;
  }

  private _onTimer(): void {
    this._timer = undefined;
    const now = this._now();
    for (let head = this._peekHead(); head !== undefined && head.deadline <= now; head = this._peekHead()) {
      this._expire(head);
    }
    if (this._queueHead > 1024 && this._queueHead * 2 > this._queue.length) {
      this._queue = this._queue.slice(this._queueHead);
      this._queueHead = 0;
    }
    this._schedule();
  }

  /** The wait ran out: give up on the containers it waited for, releasing everything held only for them. */
  private _expire(entry: HeldEntry): void {
    const chains = new Set<string>([entry.chainKey]);
    for (const id of [...entry.waiting]) {
      this._giveUp(id);
      const waiters = this._waitingOn.get(id);
      this._waitingOn.delete(id);
      for (const waiter of waiters ?? []) {
        waiter.waiting.delete(id);
        chains.add(waiter.chainKey);
      }
    }
    entry.waiting.clear();
    for (const key of chains) this._drain(key);
  }

  private _giveUp(id: string): void {
    this._givenUp.delete(id);
    this._givenUp.set(id, this._now() + this._giveUpTtlMs);
    while (this._givenUp.size > this._giveUpCacheSize) {
      const oldest = this._givenUp.keys().next();
      if (oldest.done === true) break;
      this._givenUp.delete(oldest.value);
    }
  }

  private _isGivenUp(id: string): boolean {
    const until = this._givenUp.get(id);
    if (until === undefined) return false;
    if (until > this._now()) return true;
    this._givenUp.delete(id);
    return false;
  }

  /** Attaches what the lookup knows to process, parent and ancestors; says which container ids are unknown. */
  private _resolve(event: ProcessEvent, countLookup: boolean): Resolution {
    let missing: Set<string> | undefined;
    const process = this._withPod(event.process, countLookup);
    if (isUnresolved(process)) missing = this._addMissing(missing, process);
    let parent = event.parent;
    if (parent !== undefined) {
      parent = this._withPod(parent, countLookup);
      if (isUnresolved(parent)) missing = this._addMissing(missing, parent);
    }
    let ancestors = event.ancestors;
    if (ancestors !== undefined && ancestors.length > 0) {
      let changed = false;
      const mapped = ancestors.map((ancestor) => {
        const withPod = this._withPod(ancestor, false);
        if (withPod !== ancestor) changed = true;
        return withPod;
      });
      if (changed) ancestors = mapped;
    }
    if (process === event.process && parent === event.parent && ancestors === event.ancestors) {
      return { event, missing };
    }
    const enriched: ProcessEvent = {
      ...event,
      process,
      ...(parent !== undefined ? { parent } : {}),
      ...(ancestors !== undefined ? { ancestors } : {}),
    };
    return { event: enriched, missing };
  }

  private _addMissing(missing: Set<string> | undefined, process: Process): Set<string> | undefined {
    const id = containerIdOf(process);
    if (this._isGivenUp(id)) return missing;
    const set = missing ?? new Set<string>();
    set.add(id);
    return set;
  }

  private _withPod(process: Process, countLookup: boolean): Process {
    if (process.containerId === '' && process.docker === '') return process;
    const pod = this._lookup.podFor(process, countLookup);
    if (pod === undefined || pod === process.pod) return process;
    const cached = this._withPodCache.get(process);
    if (cached !== undefined && cached.pod === pod) return cached;
    // V8 copies `{ pod, ...p }` several times faster than `{ ...p, pod }`, which adds a new property after
    // the clone; the second form is only needed when the source already has a `pod` key to override.
    const enriched: Process = Object.hasOwn(process, 'pod') ? { ...process, pod } : { pod, ...process };
    this._withPodCache.set(process, enriched);
    return enriched;
  }
}

function containerIdOf(process: Process): string {
  return process.containerId !== '' ? process.containerId : process.docker;
}

/** In a container, yet without a pod. */
function isUnresolved(process: Process): boolean {
  return process.pod === undefined && (process.containerId !== '' || process.docker !== '');
}
