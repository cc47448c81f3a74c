// bench/enrich.ts
// Pod enrichment cost per event with 1,000 pods / 10,000 containers indexed, and informer memory under churn.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KubeConfig } from '@kubernetes/client-node';
import { K8sMetrics } from '../receiver/src/enrich/k8s-metrics.js';
import { PodEnricher } from '../receiver/src/enrich/pod-enricher.js';
import { PodIndex } from '../receiver/src/enrich/pod-index.js';
import { PodInformer } from '../receiver/src/enrich/pod-informer.js';
import { silentLogger } from '../receiver/src/logger.js';
import { MetricsRegistry } from '../receiver/src/metrics.js';
import { isProcessEvent, type ExecscopeEvent } from '../receiver/src/model/events.js';
import { FakeKubeApi } from '../test/helpers/fake-kube-api.js';
import { fakePod, hexId } from '../test/helpers/kube-pods.js';
import { sampleExec, sampleExit, sampleParent, sampleProcess } from '../test/helpers/sample-events.js';

const PODS = 1_000;
const CONTAINERS_PER_POD = 10;
const EVENTS = 200_000;
const CHURN_ROUNDS = 5;
const NODE = 'bench-node';

function podsOf(generation: number): ReturnType<typeof fakePod>[] {
  const pods = [];
  for (let p = 0; p < PODS; p++) {
    const containers = [];
    for (let c = 0; c < CONTAINERS_PER_POD; c++) {
      containers.push({
        name: `c${c}`,
        id: hexId(generation * 1_000_000 + p * CONTAINERS_PER_POD + c + 1),
        ...(c === 0 ? { livenessCommand: ['/bin/sh', '-c', 'test -f /tmp/ok'] } : {}),
      });
    }
    pods.push(
      fakePod({
        name: `app-${p}-6d8f7c9b54-${generation}x`,
        namespace: `ns-${p % 20}`,
        uid: `uid-${generation}-${p}`,
        node: NODE,
        labels: { app: `app-${p}`, 'pod-template-hash': '6d8f7c9b54', tier: 'backend' },
        owner: { kind: 'ReplicaSet', name: `app-${p}-6d8f7c9b54` },
        containers,
      }),
    );
  }
  return pods;
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / (1024 * 1024);
}

/** Events per generated chunk: the timed loop sees a live heap of about what an agent holds in flight. */
const CHUNK = 5_000;

interface Workload {
  /** Builds the next chunk of events (not timed). */
  next(chunk: number): ExecscopeEvent[];
}

/** Mean and median (over chunks) nanoseconds per event; the median shrugs off other load on a shared machine. */
interface Timing {
  readonly mean: number;
  readonly median: number;
}

function timeNsPerEvent(workload: Workload, enricher: PodEnricher, expectPods: boolean): Timing {
  let enriched = 0;
  const emit = (e: ExecscopeEvent): void => {
    if (isProcessEvent(e) && e.process.pod !== undefined) enriched++;
  };
  // Warm-up so the JIT and the per-container Pod caches are in steady state.
  for (let c = 0; c < 10; c++) for (const e of workload.next(c)) enricher.enrich(e, emit);
  enriched = 0;
  let total = 0;
  let count = 0;
  const perChunk: number[] = [];
  for (let c = 10; c < 10 + EVENTS / CHUNK; c++) {
    const events = workload.next(c);
    // Collect the generator's garbage first, so the timed loop pays only for what enrichment allocates.
    gc();
    const start = process.hrtime.bigint();
    for (const e of events) enricher.enrich(e, emit);
    const ns = Number(process.hrtime.bigint() - start);
    total += ns;
    count += events.length;
    perChunk.push(ns / events.length);
  }
  if (expectPods && enriched !== count) throw new Error(`only ${enriched} of ${count} events were enriched`);
  perChunk.sort((a, b) => a - b);
  return { mean: total / count, median: perChunk[Math.floor(perChunk.length / 2)] ?? 0 };
}

/**
 * Events shaped as the process cache makes them: each process gets an exec then an exit carrying the same
 * process object, and its parent is one of a pool of long-lived cached processes.
 */
function containerWorkload(ids: readonly string[]): Workload {
  const parents = Array.from({ length: 2_000 }, (_, i) => {
    const id = ids[(i * 7919) % ids.length]!;
    return sampleParent({ pid: 100_000 + i, containerId: id, docker: id.slice(0, 31), nspid: 1 });
  });
  return {
    next(chunk: number): ExecscopeEvent[] {
      const events: ExecscopeEvent[] = [];
      for (let i = 0; i < CHUNK / 2; i++) {
        const n = chunk * CHUNK + i;
        const parent = parents[(n * 31) % parents.length]!;
        const proc = sampleProcess({ pid: 10_000 + (n % 90_000), ppid: parent.pid, containerId: parent.containerId, docker: parent.docker, nspid: 2 + (n % 40) });
        events.push(sampleExec({ process: proc, parent }), sampleExit({ process: proc, parent }));
      }
      return events;
    },
  };
}

function hostWorkload(): Workload {
  const parent = sampleParent();
  return {
    next(chunk: number): ExecscopeEvent[] {
      const events: ExecscopeEvent[] = [];
      for (let i = 0; i < CHUNK / 2; i++) {
        const proc = sampleProcess({ pid: 10_000 + ((chunk * CHUNK + i) % 90_000) });
        events.push(sampleExec({ process: proc, parent }), sampleExit({ process: proc, parent }));
      }
      return events;
    },
  };
}

async function enrichCost(): Promise<Record<string, number>> {
  const metrics = new K8sMetrics(new MetricsRegistry());
  const index = new PodIndex({ deletedPodCacheSize: 1024, enablePodAnnotations: false, metrics });
  const buildStart = performance.now();
  for (const pod of podsOf(0)) index.upsert(pod);
  const buildMs = performance.now() - buildStart;
  const enricher = new PodEnricher({ lookup: index, metrics, logger: silentLogger, podWaitMs: 2000 });
  const ids = Array.from({ length: PODS * CONTAINERS_PER_POD }, (_, i) => hexId(i + 1));
  const containerNs = timeNsPerEvent(containerWorkload(ids), enricher, true);
  const hostNs = timeNsPerEvent(hostWorkload(), enricher, false);
  await enricher.close(100);
  return {
    index_build_ms: round(buildMs),
    enrich_ns_per_event_container_median: round(containerNs.median),
    enrich_ns_per_event_container_mean: round(containerNs.mean),
    enrich_ns_per_event_host_median: round(hostNs.median),
    enrich_ns_per_event_host_mean: round(hostNs.mean),
    containers_indexed: index.containerCount,
  };
}

async function informerMemory(): Promise<Record<string, number>> {
  const api = await FakeKubeApi.start();
  const dir = await mkdtemp(join(tmpdir(), 'execscope-bench-'));
  api.addNode(NODE);
  const baseline = heapMb();
  try {
    for (const pod of podsOf(0)) api.apply(pod);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(await api.writeKubeconfig(dir));
    const metrics = new K8sMetrics(new MetricsRegistry());
    const index = new PodIndex({ deletedPodCacheSize: 1024, enablePodAnnotations: false, metrics });
    // The fake server keeps its own copy of every pod and its history; measure it separately.
    const serverMb = heapMb() - baseline;
    const informer = new PodInformer({ kubeConfig, nodeName: NODE, sink: index, logger: silentLogger, metrics, keepAnnotations: false });
    informer.start();
    if (!(await informer.waitForSync(30_000))) throw new Error('informer did not sync');
    const afterSync = heapMb();
    const results: Record<string, number> = { informer_heap_mb: round(afterSync - baseline - serverMb) };
    // Churn: every pod replaced by a new one (new uid, new container ids) per round.
    const samples: number[] = [];
    for (let round = 1; round <= CHURN_ROUNDS; round++) {
      const previous = podsOf(round - 1);
      for (const pod of previous) api.delete(pod.metadata!.namespace!, pod.metadata!.name!);
      for (const pod of podsOf(round)) api.apply(pod);
      api.compact(); // the fake server would otherwise keep every event; a real one compacts too
      const lastId = hexId(round * 1_000_000 + PODS * CONTAINERS_PER_POD);
      const probe = sampleProcess({ containerId: lastId });
      const deadline = Date.now() + 60_000;
      while (index.podFor(probe, false) === undefined || index.podCount !== PODS) {
        if (Date.now() > deadline) throw new Error(`churn round ${round} not applied`);
        await new Promise((r) => setTimeout(r, 20));
      }
      samples.push(heapMb());
    }
    await informer.stop();
    const first = samples[1] ?? 0; // round 2: the deleted-pod cache is full from here on
    const last = samples[samples.length - 1] ?? 0;
    results['heap_mb_after_churn_round_2'] = round(first - baseline);
    results[`heap_mb_after_churn_round_${CHURN_ROUNDS}`] = round(last - baseline);
    results['heap_growth_mb_rounds_2_to_last'] = round(last - first);
    results['pods_indexed'] = index.podCount;
    results['deleted_pods_cached'] = index.deletedPodCount;
    return results;
  } finally {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Runs both measurements; figures are in nanoseconds, milliseconds and MiB as their names say. */
export async function run(): Promise<Record<string, number>> {
  return { ...(await enrichCost()), ...(await informerMemory()) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run();
  for (const [key, value] of Object.entries(results)) process.stdout.write(`${key.padEnd(40)} ${value}\n`);
}
