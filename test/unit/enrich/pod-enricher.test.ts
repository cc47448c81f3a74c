// test/unit/enrich/pod-enricher.test.ts
// The enricher: straight-through cases, bounded holds, release on pod arrival, per-process order, give-up.

import test from 'ava';
import { K8sMetrics } from '../../../receiver/src/enrich/k8s-metrics.js';
import { PodEnricher } from '../../../receiver/src/enrich/pod-enricher.js';
import { PodIndex } from '../../../receiver/src/enrich/pod-index.js';
import { silentLogger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import { isProcessEvent, type ExecscopeEvent, type ProcessExecEvent } from '../../../receiver/src/model/events.js';
import type { Process } from '../../../receiver/src/model/process.js';
import { fakePod, hexId } from '../../helpers/kube-pods.js';
import { sampleExec, sampleExit, sampleParent, sampleProcess } from '../../helpers/sample-events.js';

const C1 = hexId(11);
const C2 = hexId(12);

function setup(podWaitMs = 80, giveUpTtlMs = 60_000) {
  const metrics = new K8sMetrics(new MetricsRegistry());
  const index = new PodIndex({ deletedPodCacheSize: 16, enablePodAnnotations: false, metrics });
  const enricher = new PodEnricher({ lookup: index, metrics, logger: silentLogger, podWaitMs, giveUpTtlMs });
  const out: ExecscopeEvent[] = [];
  const emit = (e: ExecscopeEvent): void => {
    out.push(e);
  };
  return { metrics, index, enricher, out, emit };
}

function podWith(id: string, name = 'web-0') {
  return fakePod({ name, uid: `uid-${name}`, node: 'n', labels: { app: name }, containers: [{ name: 'c', id }] });
}

function inContainer(id: string, overrides: Partial<Process> = {}): Process {
  return sampleProcess({ containerId: id, docker: id.slice(0, 31), nspid: 5, ...overrides });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

test('host events pass straight through, unchanged and synchronously', async (t) => {
  const { enricher, out, emit } = setup();
  const event = sampleExec();
  enricher.enrich(event, emit);
  t.is(out.length, 1);
  t.is(out[0], event, 'same object: nothing to add');
  await enricher.close(100);
});

test('rate_limit_info passes straight through', async (t) => {
  const { enricher, out, emit } = setup();
  const event: ExecscopeEvent = { kind: 'rate_limit_info', nodeName: 'n', time: [1, 0], numberOfDroppedProcessEvents: 3 };
  enricher.enrich(event, emit);
  t.is(out[0], event);
  await enricher.close(100);
});

test('a known container gets its pod on process and parent at once', async (t) => {
  const { enricher, index, out, emit, metrics } = setup();
  index.upsert(podWith(C1));
  enricher.enrich(sampleExec({ process: inContainer(C1), parent: sampleParent({ containerId: C1, docker: C1.slice(0, 31), nspid: 1 }) }), emit);
  t.is(out.length, 1);
  const event = out[0] as ProcessExecEvent;
  t.is(event.process.pod?.name, 'web-0');
  t.is(event.process.pod?.container?.pid, 5);
  t.is(event.parent?.pod?.container?.pid, 1);
  t.is(metrics.eventsHeldTotal.total(), 0);
  t.is(metrics.lookupCount('hit'), 2);
  await enricher.close(100);
});

test('ancestors get their pods too', async (t) => {
  const { enricher, index, out, emit } = setup();
  index.upsert(podWith(C1));
  const ancestor = sampleProcess({ pid: 10, containerId: C1, docker: C1.slice(0, 31), nspid: 1 });
  const hostAncestor = sampleProcess({ pid: 1 });
  enricher.enrich(sampleExec({ process: inContainer(C1), ancestors: [ancestor, hostAncestor] }), emit);
  const event = out[0] as ProcessExecEvent;
  t.is(event.ancestors?.[0]?.pod?.name, 'web-0');
  t.is(event.ancestors?.[1], hostAncestor);
  await enricher.close(100);
});

test('an unknown container is held, then released with its pod the moment it is indexed', async (t) => {
  const { enricher, index, out, emit, metrics } = setup(5_000);
  enricher.enrich(sampleExec({ process: inContainer(C1) }), emit);
  t.is(out.length, 0);
  t.is(enricher.heldCount, 1);
  index.upsert(podWith(C1));
  t.is(out.length, 1, 'released synchronously on the index update');
  t.is((out[0] as ProcessExecEvent).process.pod?.name, 'web-0');
  t.is(metrics.eventsHeldTotal.total(), 1);
  t.is(metrics.eventsReleasedUnresolved.total(), 0);
  t.is(enricher.heldCount, 0);
  await enricher.close(100);
});

test('after the wait the event goes out without its pod, counted; later events of that container do not wait', async (t) => {
  const { enricher, out, emit, metrics } = setup(60);
  const started = Date.now();
  enricher.enrich(sampleExec({ process: inContainer(C1) }), emit);
  await until(() => out.length === 1);
  const waited = Date.now() - started;
  t.true(waited >= 55, `waited ${waited} ms`);
  t.true(waited < 1000, `waited ${waited} ms`);
  t.is((out[0] as ProcessExecEvent).process.pod, undefined);
  t.is(metrics.eventsReleasedUnresolved.total(), 1);
  // Given up: the next event of the same container passes at once.
  enricher.enrich(sampleExec({ process: inContainer(C1, { pid: 99 }) }), emit);
  t.is(out.length, 2);
  await enricher.close(100);
});

test('a given-up container gets its pod again once the informer knows it', async (t) => {
  const { enricher, index, out, emit } = setup(30);
  enricher.enrich(sampleExec({ process: inContainer(C1) }), emit);
  await until(() => out.length === 1);
  index.upsert(podWith(C1));
  enricher.enrich(sampleExec({ process: inContainer(C1, { pid: 77 }) }), emit);
  t.is((out[1] as ProcessExecEvent).process.pod?.name, 'web-0');
  await enricher.close(100);
});

test('give-up expires: a container seen again after the TTL is waited for again', async (t) => {
  const { enricher, out, emit, metrics } = setup(20, 50);
  enricher.enrich(sampleExec({ process: inContainer(C1) }), emit);
  await until(() => out.length === 1);
  await sleep(70);
  enricher.enrich(sampleExec({ process: inContainer(C1, { pid: 5 }) }), emit);
  t.is(out.length, 1, 'held again');
  await until(() => out.length === 2);
  t.is(metrics.eventsHeldTotal.total(), 2);
});

test('an exit never overtakes its held exec, even when the exit alone could pass', async (t) => {
  const { enricher, index, out, emit } = setup(5_000);
  const proc = inContainer(C1);
  enricher.enrich(sampleExec({ process: proc }), emit);
  // The pod is known by now, but the exec is still held: the exit must queue behind it.
  const other = podWith(C2, 'other');
  index.upsert(other);
  enricher.enrich(sampleExit({ process: proc }), emit);
  t.is(out.length, 0);
  index.upsert(podWith(C1));
  t.deepEqual(
    out.map((e) => e.kind),
    ['process_exec', 'process_exit'],
  );
  t.true(out.every((e) => isProcessEvent(e) && e.process.pod?.name === 'web-0'));
  await enricher.close(100);
});

test('on timeout the exit follows its exec right away, in order', async (t) => {
  const { enricher, out, emit, metrics } = setup(50);
  const proc = inContainer(C1);
  enricher.enrich(sampleExec({ process: proc }), emit);
  await sleep(20);
  enricher.enrich(sampleExit({ process: proc }), emit);
  await until(() => out.length === 2);
  t.deepEqual(
    out.map((e) => e.kind),
    ['process_exec', 'process_exit'],
  );
  t.is(metrics.eventsReleasedUnresolved.total(), 2);
});

test('held events of other containers do not block each other', async (t) => {
  const { enricher, index, out, emit } = setup(5_000);
  enricher.enrich(sampleExec({ process: inContainer(C1, { pid: 1001 }) }), emit);
  enricher.enrich(sampleExec({ process: inContainer(C2, { pid: 1002 }) }), emit);
  index.upsert(podWith(C2, 'second'));
  t.is(out.length, 1);
  t.is((out[0] as ProcessExecEvent).process.pid, 1002);
  enricher.enrich(sampleExec({ process: sampleProcess({ pid: 1003 }) }), emit);
  t.is(out.length, 2, 'host event not delayed by held ones');
  await enricher.close(100);
  t.is(out.length, 3, 'close releases the rest');
});

test('an event also waits for its parent container', async (t) => {
  const { enricher, index, out, emit } = setup(5_000);
  index.upsert(podWith(C1));
  enricher.enrich(sampleExec({ process: inContainer(C1), parent: sampleParent({ containerId: C2, docker: C2.slice(0, 31) }) }), emit);
  t.is(out.length, 0);
  index.upsert(podWith(C2, 'parent-pod'));
  t.is((out[0] as ProcessExecEvent).parent?.pod?.name, 'parent-pod');
  t.is((out[0] as ProcessExecEvent).process.pod?.name, 'web-0');
  await enricher.close(100);
});

test('close emits everything held, in arrival order, then passes events straight through', async (t) => {
  const { enricher, out, emit, metrics } = setup(60_000);
  for (let pid = 1; pid <= 5; pid++) enricher.enrich(sampleExec({ process: inContainer(C1, { pid }) }), emit);
  t.is(out.length, 0);
  await enricher.close(100);
  t.deepEqual(
    out.map((e) => (isProcessEvent(e) ? e.process.pid : 0)),
    [1, 2, 3, 4, 5],
  );
  t.is(metrics.eventsReleasedUnresolved.total(), 5);
  enricher.enrich(sampleExec({ process: inContainer(C2) }), emit);
  t.is(out.length, 6);
});

test('many held events across containers all come out exactly once, each process in order', async (t) => {
  const { enricher, index, out, emit } = setup(40);
  const ids = [hexId(201), hexId(202), hexId(203)];
  let pid = 2000;
  for (let round = 0; round < 20; round++) {
    const id = ids[round % ids.length]!;
    const proc = inContainer(id, { pid: ++pid });
    enricher.enrich(sampleExec({ process: proc }), emit);
    enricher.enrich(sampleExit({ process: proc }), emit);
    if (round === 7) index.upsert(podWith(ids[0]!, 'zero'));
  }
  await until(() => out.length === 40);
  await sleep(60);
  t.is(out.length, 40);
  const seen = new Map<number, string[]>();
  for (const e of out) {
    if (!isProcessEvent(e)) continue;
    seen.set(e.process.pid, [...(seen.get(e.process.pid) ?? []), e.kind]);
  }
  t.is(seen.size, 20);
  for (const kinds of seen.values()) t.deepEqual(kinds, ['process_exec', 'process_exit']);
  t.is(enricher.heldCount, 0);
  await enricher.close(100);
});

test('a throwing emit does not stall other held events', async (t) => {
  const { enricher, index } = setup(5_000);
  const out: ExecscopeEvent[] = [];
  enricher.enrich(sampleExec({ process: inContainer(C1, { pid: 1 }) }), () => {
    throw new Error('sink broke');
  });
  enricher.enrich(sampleExec({ process: inContainer(C1, { pid: 2 }) }), (e) => out.push(e));
  index.upsert(podWith(C1));
  t.is(out.length, 1);
  await enricher.close(100);
});

test('a wait of 0 never holds: unknown containers go straight out without a pod', async (t) => {
  const { enricher, out, emit, metrics } = setup(0);
  enricher.enrich(sampleExec({ process: inContainer(C1) }), emit);
  t.is(out.length, 1);
  t.is((out[0] as ProcessExecEvent).process.pod, undefined);
  t.is(metrics.eventsHeldTotal.total(), 0);
  await enricher.close(100);
});
