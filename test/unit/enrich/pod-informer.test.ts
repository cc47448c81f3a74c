// test/unit/enrich/pod-informer.test.ts
// The informer and enricher against a local fake Kubernetes API: list/watch, breaks, 410 relists, outages.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import anyTest from 'ava';
import type { TestFn } from 'ava';
import { K8sMetrics } from '../../../receiver/src/enrich/k8s-metrics.js';
import { PodEnricher } from '../../../receiver/src/enrich/pod-enricher.js';
import { PodIndex } from '../../../receiver/src/enrich/pod-index.js';
import { PodInformer } from '../../../receiver/src/enrich/pod-informer.js';
import type { LogAttributes, Logger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import type { ExecscopeEvent, ProcessExecEvent } from '../../../receiver/src/model/events.js';
import { FakeKubeApi } from '../../helpers/fake-kube-api.js';
import { fakePod, hexId } from '../../helpers/kube-pods.js';
import { sampleExec, sampleExit, sampleProcess } from '../../helpers/sample-events.js';

const NODE = 'node-a';

interface Ctx {
  api: FakeKubeApi;
  dir: string;
  kubeConfig: KubeConfig;
  informer?: PodInformer;
}

const test = anyTest as TestFn<Ctx>;

test.beforeEach(async (t) => {
  const api = await FakeKubeApi.start();
  api.addNode(NODE);
  const dir = await mkdtemp(join(tmpdir(), 'execscope-k8s-'));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(await api.writeKubeconfig(dir));
  t.context = { api, dir, kubeConfig };
});

test.afterEach.always(async (t) => {
  await t.context.informer?.stop();
  await t.context.api.close();
  await rm(t.context.dir, { recursive: true, force: true });
});

class MemoryLogger implements Logger {
  readonly lines: { level: string; msg: string; attrs: LogAttributes | undefined }[] = [];
  debug(msg: string, attrs?: LogAttributes): void {
    this.lines.push({ level: 'debug', msg, attrs });
  }
  info(msg: string, attrs?: LogAttributes): void {
    this.lines.push({ level: 'info', msg, attrs });
  }
  warn(msg: string, attrs?: LogAttributes): void {
    this.lines.push({ level: 'warn', msg, attrs });
  }
  error(msg: string, attrs?: LogAttributes): void {
    this.lines.push({ level: 'error', msg, attrs });
  }
}

function startInformer(t: { context: Ctx }, nodeName = NODE) {
  const metrics = new K8sMetrics(new MetricsRegistry());
  const logger = new MemoryLogger();
  const index = new PodIndex({ deletedPodCacheSize: 8, enablePodAnnotations: false, metrics });
  const informer = new PodInformer({
    kubeConfig: t.context.kubeConfig,
    nodeName,
    sink: index,
    logger,
    metrics,
    keepAnnotations: false,
    backoff: { initialMs: 20, maxMs: 120 },
  });
  t.context.informer = informer;
  informer.start();
  return { metrics, index, informer, logger };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function inContainer(id: string, pid = 4242) {
  return sampleProcess({ pid, containerId: id, docker: id.slice(0, 31), nspid: 3 });
}

const A = hexId(301);
const B = hexId(302);
const C = hexId(303);

test('lists this node\'s pods, then follows ADDED, MODIFIED and DELETED', async (t) => {
  const { api } = t.context;
  api.apply(fakePod({ name: 'a', node: NODE, containers: [{ name: 'c', id: A }] }));
  api.apply(fakePod({ name: 'elsewhere', node: 'node-b', containers: [{ name: 'c', id: B }] }));
  const { index, informer, metrics } = startInformer(t);
  t.true(await informer.waitForSync(3000));
  t.is(metrics.informerSynced.get(), 1);
  t.is(index.podFor(inContainer(A))?.name, 'a');
  t.is(index.podFor(inContainer(B)), undefined, 'field selector keeps other nodes out');
  t.true(api.authorizations.every((h) => h === 'Bearer fake-token'));

  await until(() => api.openWatches === 1, 'watch');
  api.apply(fakePod({ name: 'c', node: NODE, labels: { v: '1' }, containers: [{ name: 'c', id: C }] }));
  await until(() => index.podFor(inContainer(C), false) !== undefined, 'ADDED');
  api.apply(fakePod({ name: 'c', node: NODE, labels: { v: '2' }, containers: [{ name: 'c', id: C }] }));
  await until(() => index.podFor(inContainer(C), false)?.podLabels['v'] === '2', 'MODIFIED');
  api.delete('default', 'c');
  await until(() => index.podCount === 1, 'DELETED');
  t.is(index.containerCount, 1);
  t.is(index.podFor(inContainer(C))?.podLabels['v'], '2', 'late event resolved from the deleted-pod cache');
  t.is(api.counts.list, 1);
});

test('a pod created after its process started: the held event is released with the pod', async (t) => {
  const { api } = t.context;
  const { index, informer, metrics } = startInformer(t);
  await informer.waitForSync(3000);
  await until(() => api.openWatches === 1, 'watch');
  const enricher = new PodEnricher({ lookup: index, metrics, logger: new MemoryLogger(), podWaitMs: 3000 });
  const out: ExecscopeEvent[] = [];
  const proc = inContainer(A);
  enricher.enrich(sampleExec({ process: proc }), (e) => out.push(e));
  enricher.enrich(sampleExit({ process: proc }), (e) => out.push(e));
  // The kubelet first reports the container without an id, then with it.
  api.apply(fakePod({ name: 'late', node: NODE, containers: [{ name: 'c' }] }));
  await sleep(50);
  t.is(out.length, 0);
  const started = Date.now();
  api.apply(fakePod({ name: 'late', node: NODE, containers: [{ name: 'c', id: A }] }));
  await until(() => out.length === 2, 'release');
  t.true(Date.now() - started < 1000);
  t.deepEqual(
    out.map((e) => e.kind),
    ['process_exec', 'process_exit'],
  );
  t.is((out[0] as ProcessExecEvent).process.pod?.name, 'late');
  t.is(metrics.eventsReleasedUnresolved.total(), 0);
  await enricher.close(100);
});

test('a broken watch is resumed from its resourceVersion without a relist', async (t) => {
  const { api } = t.context;
  const { index, informer, metrics } = startInformer(t);
  await informer.waitForSync(3000);
  await until(() => api.openWatches === 1, 'watch');
  api.breakWatches();
  api.apply(fakePod({ name: 'during-break', node: NODE, containers: [{ name: 'c', id: A }] }));
  await until(() => index.podFor(inContainer(A), false) !== undefined, 'pod after break');
  t.is(api.counts.list, 1, 'resumed, not relisted');
  t.true(api.counts.watch >= 2);
  t.true(metrics.watchRestarts.get({ reason: 'error' }) + metrics.watchRestarts.get({ reason: 'closed' }) >= 1);
});

test('a watch the server closes is re-opened (hot loops are backed off)', async (t) => {
  const { api } = t.context;
  const { index, informer, metrics } = startInformer(t);
  await informer.waitForSync(3000);
  for (let i = 0; i < 3; i++) {
    await until(() => api.openWatches === 1, 'watch');
    api.closeWatches();
  }
  api.apply(fakePod({ name: 'after-close', node: NODE, containers: [{ name: 'c', id: B }] }));
  await until(() => index.podFor(inContainer(B), false) !== undefined, 'pod after close');
  t.is(metrics.watchRestarts.get({ reason: 'closed' }), 3);
  t.is(api.counts.list, 1);
});

for (const mode of ['event', 'status'] as const) {
  test(`410 Gone (${mode === 'event' ? 'ERROR event in the stream' : 'HTTP status'}) leads to a relist that catches up`, async (t) => {
    const { api } = t.context;
    api.goneMode = mode;
    api.apply(fakePod({ name: 'stays', node: NODE, containers: [{ name: 'c', id: A }] }));
    api.apply(fakePod({ name: 'goes', node: NODE, containers: [{ name: 'c', id: B }] }));
    const { index, informer, metrics } = startInformer(t);
    await informer.waitForSync(3000);
    await until(() => api.openWatches === 1, 'watch');
    // Changes the watch never carries, then history is compacted and the watch breaks.
    api.breakWatches();
    api.deleteSilently('default', 'goes');
    api.applySilently(fakePod({ name: 'new', node: NODE, containers: [{ name: 'c', id: C }] }));
    api.compact();
    await until(() => index.podFor(inContainer(C), false) !== undefined, 'relisted pod');
    t.is(index.podFor(inContainer(A), false)?.name, 'stays');
    t.is(index.podCount, 2);
    t.is(index.podFor(inContainer(B))?.name, 'goes', 'the pod gone during the gap is in the deleted cache');
    t.is(api.counts.list, 2);
    t.true(api.counts.gone >= 1);
    t.true(metrics.watchRestarts.get({ reason: 'gone' }) >= 1);
  });
}

test('an API outage is survived: events keep flowing and the index catches up afterwards', async (t) => {
  const { api } = t.context;
  const { index, informer, metrics, logger } = startInformer(t);
  await informer.waitForSync(3000);
  await until(() => api.openWatches === 1, 'watch');
  const enricher = new PodEnricher({ lookup: index, metrics, logger, podWaitMs: 100 });
  const out: ExecscopeEvent[] = [];
  api.setDown(true);
  api.applySilently(fakePod({ name: 'while-down', node: NODE, containers: [{ name: 'c', id: A }] }));
  await sleep(300);
  t.true(api.counts.refused >= 2, `retried ${api.counts.refused} times while down`);
  // Host events are not delayed; container events wait at most podWaitMs.
  enricher.enrich(sampleExec(), (e) => out.push(e));
  t.is(out.length, 1);
  enricher.enrich(sampleExec({ process: inContainer(A) }), (e) => out.push(e));
  await until(() => out.length === 2, 'held event released unresolved');
  t.is(metrics.eventsReleasedUnresolved.total(), 1);
  api.setDown(false);
  await until(() => index.podFor(inContainer(A), false) !== undefined, 'catch-up after outage');
  t.true(metrics.watchRestarts.total() >= 2);
  t.true(logger.lines.some((l) => l.level === 'warn' && l.msg.includes('retrying')));
  // Once known again, the container's events carry the pod.
  enricher.enrich(sampleExec({ process: inContainer(A, 7) }), (e) => out.push(e));
  t.is((out[2] as ProcessExecEvent).process.pod?.name, 'while-down');
  await enricher.close(100);
});

test('an API down at start: not synced in time, then synced when it comes up', async (t) => {
  const { api } = t.context;
  api.setDown(true);
  api.apply(fakePod({ name: 'a', node: NODE, containers: [{ name: 'c', id: A }] }));
  const { index, informer } = startInformer(t);
  t.false(await informer.waitForSync(150));
  api.setDown(false);
  t.true(await informer.waitForSync(3000));
  t.is(index.podFor(inContainer(A))?.name, 'a');
});

test('a node name no node has is reported once', async (t) => {
  const { informer, logger } = startInformer(t, 'no-such-node');
  await informer.waitForSync(3000);
  await until(() => logger.lines.some((l) => l.msg.includes('NODE_NAME')), 'node warning');
  t.pass();
});

test('stop ends the watch and no restart follows', async (t) => {
  const { api } = t.context;
  const { informer } = startInformer(t);
  await informer.waitForSync(3000);
  await until(() => api.openWatches === 1, 'watch');
  await informer.stop();
  await until(() => api.openWatches === 0, 'watch closed');
  const watches = api.counts.watch;
  await sleep(200);
  t.is(api.counts.watch, watches);
});
