// test/unit/enrich/pod-index.test.ts
// The container-id index: records per container, Pod objects, stability across updates, deleted-pod cache.

import test from 'ava';
import { K8sMetrics } from '../../../receiver/src/enrich/k8s-metrics.js';
import { PodIndex } from '../../../receiver/src/enrich/pod-index.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import { fakePod, hexId } from '../../helpers/kube-pods.js';
import { sampleProcess } from '../../helpers/sample-events.js';

function makeIndex(options: { deletedPodCacheSize?: number; enablePodAnnotations?: boolean } = {}) {
  const registry = new MetricsRegistry();
  const metrics = new K8sMetrics(registry);
  const index = new PodIndex({
    deletedPodCacheSize: options.deletedPodCacheSize ?? 1024,
    enablePodAnnotations: options.enablePodAnnotations ?? false,
    metrics,
  });
  return { index, metrics, registry };
}

const APP = hexId(1);
const SIDECAR = hexId(2);
const INIT = hexId(3);
const DEBUG = hexId(4);

function webPod(extra: { labels?: Record<string, string>; appId?: string } = {}) {
  return fakePod({
    name: 'web-7f9c6d5b8-abcde',
    namespace: 'shop',
    uid: 'uid-web-1',
    node: 'node-a',
    labels: { app: 'web', 'pod-template-hash': '7f9c6d5b8', ...extra.labels },
    annotations: { 'prometheus.io/scrape': 'true' },
    owner: { kind: 'ReplicaSet', name: 'web-7f9c6d5b8' },
    containers: [
      {
        name: 'app',
        id: extra.appId ?? APP,
        image: 'ghcr.io/acme/web:1.2',
        startedAt: '2024-05-01T10:00:03.734Z',
        livenessCommand: ['/bin/sh', '-c', 'test -f /tmp/healthy'],
        readinessCommand: ['cat', '/tmp/ready'],
        privileged: false,
      },
      { name: 'proxy', id: SIDECAR, runtime: 'cri-o' },
    ],
    initContainers: [{ name: 'migrate', id: INIT }],
    ephemeralContainers: [{ name: 'debugger', id: DEBUG }],
  });
}

test('every container kind is indexed by its id without runtime prefix', (t) => {
  const { index } = makeIndex();
  index.upsert(webPod());
  for (const [id, name] of [
    [APP, 'app'],
    [SIDECAR, 'proxy'],
    [INIT, 'migrate'],
    [DEBUG, 'debugger'],
  ] as const) {
    const pod = index.podFor(sampleProcess({ containerId: id, docker: id.slice(0, 31), nspid: 7 }));
    t.is(pod?.container?.name, name);
  }
  t.is(index.containerCount, 4);
  t.is(index.podCount, 1);
});

test('the Pod carries pod metadata, workload, container status fields and the nspid', (t) => {
  const { index } = makeIndex();
  index.upsert(webPod());
  const pod = index.podFor(sampleProcess({ containerId: APP, docker: APP.slice(0, 31), nspid: 12 }));
  t.deepEqual(pod, {
    namespace: 'shop',
    name: 'web-7f9c6d5b8-abcde',
    uid: 'uid-web-1',
    container: {
      id: `containerd://${APP}`,
      name: 'app',
      image: { id: `docker.io/library/busybox@sha256:${hexId(10)}`, name: 'ghcr.io/acme/web:1.2' },
      startTime: [1714557603, 0],
      pid: 12,
      maybeExecProbe: false,
      securityContext: { privileged: false },
    },
    podLabels: { app: 'web', 'pod-template-hash': '7f9c6d5b8' },
    workload: 'web',
    workloadKind: 'Deployment',
  });
  const sidecar = index.podFor(sampleProcess({ containerId: SIDECAR, docker: '', nspid: 0 }));
  t.is(sidecar?.container?.id, `cri-o://${SIDECAR}`);
  t.false(sidecar?.container !== undefined && 'pid' in sidecar.container, 'pid 0 is omitted');
});

test('annotations only with enablePodAnnotations', (t) => {
  const off = makeIndex().index;
  off.upsert(webPod());
  t.is(off.podFor(sampleProcess({ containerId: APP }))?.podAnnotations, undefined);
  const on = makeIndex({ enablePodAnnotations: true }).index;
  on.upsert(webPod());
  t.deepEqual(on.podFor(sampleProcess({ containerId: APP }))?.podAnnotations, { 'prometheus.io/scrape': 'true' });
});

test('maybeExecProbe: absolute probe path, base-name probe, and near misses', (t) => {
  const { index } = makeIndex();
  index.upsert(webPod());
  const probe = (binary: string, argv: string[]) =>
    index.podFor(sampleProcess({ containerId: APP, binary, argv, nspid: 40 }))?.container?.maybeExecProbe;
  t.true(probe('/bin/sh', ['sh', '-c', 'test -f /tmp/healthy']));
  t.true(probe('/usr/bin/cat', ['cat', '/tmp/ready']));
  t.false(probe('/usr/bin/sh', ['sh', '-c', 'test -f /tmp/healthy']), 'absolute probe path must match exactly');
  t.false(probe('/bin/sh', ['sh', '-c', 'test -f /tmp/other']));
  t.false(probe('/usr/bin/cat', ['cat', '/tmp/ready', 'extra']));
  // Without a captured argv, Tetragon's joined arguments string is compared.
  t.true(index.podFor(sampleProcess({ containerId: APP, binary: '/bin/cat', argv: [], arguments: '/tmp/ready' }))?.container?.maybeExecProbe);
});

test('the same process gets the same Pod object; an unrelated pod update keeps it', (t) => {
  const { index } = makeIndex();
  index.upsert(webPod());
  const proc = sampleProcess({ containerId: APP, nspid: 9 });
  const first = index.podFor(proc);
  t.is(index.podFor(proc), first);
  // A status-only update (new resourceVersion, same content) changes nothing we emit.
  const again = webPod();
  again.status = { ...again.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
  index.upsert(again);
  t.is(index.podFor(proc), first);
  // Another pid in the same container: equal pod-level content, its own pid.
  const other = index.podFor(sampleProcess({ containerId: APP, nspid: 10 }));
  t.not(other, first);
  t.is(other?.podLabels, first?.podLabels, 'labels object shared');
  t.is(other?.container?.pid, 10);
});

test('a label change produces a new Pod with the new labels', (t) => {
  const { index } = makeIndex();
  index.upsert(webPod());
  const proc = sampleProcess({ containerId: APP, nspid: 9 });
  const before = index.podFor(proc);
  index.upsert(webPod({ labels: { tier: 'frontend' } }));
  const after = index.podFor(proc);
  t.not(after, before);
  t.is(after?.podLabels['tier'], 'frontend');
});

test('notifies listeners of newly indexed container ids only', (t) => {
  const { index } = makeIndex();
  const seen: string[][] = [];
  const unsubscribe = index.onContainersIndexed((ids) => seen.push([...ids]));
  const creating = webPod();
  creating.status!.containerStatuses![0] = { ...creating.status!.containerStatuses![0]!, containerID: '' };
  index.upsert(creating);
  t.deepEqual(seen, [[SIDECAR, INIT, DEBUG]]);
  index.upsert(webPod());
  t.deepEqual(seen[1], [APP]);
  index.upsert(webPod());
  t.is(seen.length, 2, 'no news, no call');
  unsubscribe();
  index.upsert(webPod({ appId: hexId(99) }));
  t.is(seen.length, 2);
});

test('a deleted pod stays findable through the deleted-pod cache', (t) => {
  const { index, metrics } = makeIndex();
  const pod = webPod();
  index.upsert(pod);
  index.remove(pod);
  t.is(index.podCount, 0);
  t.is(index.containerCount, 0);
  t.is(index.deletedPodCount, 1);
  t.is(index.podFor(sampleProcess({ containerId: APP }))?.name, 'web-7f9c6d5b8-abcde');
  t.is(metrics.lookupCount('hit_deleted'), 1);
  t.is(index.podFor(sampleProcess({ containerId: hexId(77) })), undefined);
  t.is(metrics.lookupCount('miss'), 1);
});

test('a restarted container (new id) keeps the old id findable', (t) => {
  const { index } = makeIndex();
  index.upsert(webPod());
  const restarted = hexId(50);
  index.upsert(webPod({ appId: restarted }));
  t.is(index.podFor(sampleProcess({ containerId: restarted }))?.container?.id, `containerd://${restarted}`);
  t.is(index.podFor(sampleProcess({ containerId: APP }))?.container?.id, `containerd://${APP}`);
  t.is(index.containerCount, 4);
});

test('the deleted-pod cache is an LRU of the configured size', (t) => {
  const { index } = makeIndex({ deletedPodCacheSize: 3 });
  for (let i = 0; i < 5; i++) {
    const pod = fakePod({ name: `p${i}`, uid: `u${i}`, node: 'n', containers: [{ name: 'c', id: hexId(100 + i) }] });
    index.upsert(pod);
    index.remove(pod);
  }
  t.is(index.deletedPodCount, 3);
  t.is(index.podFor(sampleProcess({ containerId: hexId(100) })), undefined);
  t.is(index.podFor(sampleProcess({ containerId: hexId(101) })), undefined);
  t.is(index.podFor(sampleProcess({ containerId: hexId(104) }))?.name, 'p4');
  const none = makeIndex({ deletedPodCacheSize: 0 }).index;
  const pod = fakePod({ name: 'x', node: 'n', containers: [{ name: 'c', id: hexId(1) }] });
  none.upsert(pod);
  none.remove(pod);
  t.is(none.podFor(sampleProcess({ containerId: hexId(1) })), undefined);
});

test('a pod recreated under the same name with a new uid replaces the old one', (t) => {
  const { index } = makeIndex();
  index.upsert(fakePod({ name: 'db-0', uid: 'old', node: 'n', containers: [{ name: 'c', id: hexId(1) }] }));
  index.upsert(fakePod({ name: 'db-0', uid: 'new', node: 'n', containers: [{ name: 'c', id: hexId(2) }] }));
  t.is(index.podCount, 1);
  t.is(index.containerCount, 1);
  t.is(index.podFor(sampleProcess({ containerId: hexId(2) }))?.uid, 'new');
  t.is(index.podFor(sampleProcess({ containerId: hexId(1) }))?.uid, 'old', 'old one in the deleted cache');
});

test('a truncated (31+ char) id is found by prefix; the docker field is used when containerId is empty', (t) => {
  const { index } = makeIndex();
  index.upsert(webPod());
  t.is(index.podFor(sampleProcess({ containerId: APP.slice(0, 40) }))?.container?.name, 'app');
  t.is(index.podFor(sampleProcess({ containerId: '', docker: SIDECAR.slice(0, 31) }))?.container?.name, 'proxy');
  t.is(index.podFor(sampleProcess({ containerId: APP.slice(0, 20) })), undefined);
});

test('host processes are not looked up at all', (t) => {
  const { index, metrics } = makeIndex();
  index.upsert(webPod());
  t.is(index.podFor(sampleProcess()), undefined);
  t.is(metrics.lookupCount('hit') + metrics.lookupCount('miss') + metrics.lookupCount('hit_deleted'), 0);
});

test('gauges report pods, containers and deleted pods', (t) => {
  const { index, registry } = makeIndex();
  index.upsert(webPod());
  index.upsert(fakePod({ name: 'pending', node: 'n', containers: [{ name: 'c' }] }));
  const text = registry.render();
  t.regex(text, /^execscope_k8s_pods_indexed 2$/m);
  t.regex(text, /^execscope_k8s_containers_indexed 4$/m);
  t.regex(text, /^execscope_k8s_deleted_pods_cached 0$/m);
});

test('lookup counts reach the counter at scrape time', (t) => {
  const { index, registry } = makeIndex();
  index.upsert(webPod());
  index.podFor(sampleProcess({ containerId: APP }));
  index.podFor(sampleProcess({ containerId: APP }));
  index.podFor(sampleProcess({ containerId: hexId(55) }));
  const text = registry.render();
  t.regex(text, /^execscope_k8s_pod_lookups_total\{result="hit"\} 2$/m);
  t.regex(text, /^execscope_k8s_pod_lookups_total\{result="miss"\} 1$/m);
  index.podFor(sampleProcess({ containerId: APP }));
  t.regex(registry.render(), /^execscope_k8s_pod_lookups_total\{result="hit"\} 3$/m);
});
