// test/unit/enrich/k8s-feature.test.ts
// The Kubernetes agent feature: flags, validation, kubeconfig loading, start against the fake API, close.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Command } from 'commander';
import { K8sFeature } from '../../../receiver/src/cli/features/k8s-feature.js';
import { ConfigError } from '../../../receiver/src/errors.js';
import { silentLogger } from '../../../receiver/src/logger.js';
import type { LogAttributes, Logger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import type { ExecscopeEvent, ProcessExecEvent } from '../../../receiver/src/model/events.js';
import { FakeKubeApi } from '../../helpers/fake-kube-api.js';
import { fakePod, hexId } from '../../helpers/kube-pods.js';
import { sampleExec, sampleProcess } from '../../helpers/sample-events.js';

function parse(feature: K8sFeature, args: string[]): Record<string, unknown> {
  const command = new Command('agent').exitOverride();
  feature.addOptions(command);
  command.parse(args, { from: 'user' });
  return command.opts();
}

function context(logger: Logger = silentLogger) {
  return { logger, metrics: new MetricsRegistry(), nodeName: 'node-a' };
}

test('flags and their defaults', (t) => {
  const opts = parse(new K8sFeature(), []);
  t.like(opts, { enableK8sApi: false, enablePodAnnotations: false, deletedPodCacheSize: '1024', k8sPodWait: '2s' });
  t.is(opts['kubeconfig'], undefined);
  const set = parse(new K8sFeature(), ['--enable-k8s-api', '--kubeconfig', '/k', '--enable-pod-annotations', '--deleted-pod-cache-size', '5', '--k8s-pod-wait', '500ms']);
  t.like(set, { enableK8sApi: true, kubeconfig: '/k', enablePodAnnotations: true, deletedPodCacheSize: '5', k8sPodWait: '500ms' });
});

test('disabled without --enable-k8s-api', async (t) => {
  const feature = new K8sFeature();
  t.is(await feature.start(parse(feature, []), context()), undefined);
});

test('invalid values are ConfigErrors naming the option and value', async (t) => {
  const feature = new K8sFeature({ env: {} });
  const bad: [string[], RegExp][] = [
    [['--k8s-pod-wait', 'soon'], /--k8s-pod-wait: "soon"/],
    [['--k8s-pod-wait', '5m'], /--k8s-pod-wait: "5m" is above/],
    [['--deleted-pod-cache-size', '-3'], /--deleted-pod-cache-size: "-3"/],
    [['--kubeconfig', '/nonexistent/kubeconfig'], /--kubeconfig: cannot load "\/nonexistent\/kubeconfig"/],
    [[], /not running in a pod/],
  ];
  for (const [args, message] of bad) {
    const error = await t.throwsAsync(feature.start(parse(feature, ['--enable-k8s-api', ...args]), context()), { instanceOf: ConfigError });
    t.regex(error?.message ?? '', message);
  }
});

test('starts against the API, enriches, and close stops the watch', async (t) => {
  const api = await FakeKubeApi.start();
  const dir = await mkdtemp(join(tmpdir(), 'execscope-feature-'));
  try {
    api.addNode('node-a');
    const id = hexId(900);
    api.apply(fakePod({ name: 'web-1', node: 'node-a', labels: { app: 'web' }, containers: [{ name: 'app', id }] }));
    const feature = new K8sFeature({ env: {} });
    const ctx = context();
    const started = await feature.start(parse(feature, ['--enable-k8s-api', '--kubeconfig', await api.writeKubeconfig(dir), '--k8s-pod-wait', '100ms']), ctx);
    t.truthy(started?.enricher);
    t.truthy(started?.close);
    const out: ExecscopeEvent[] = [];
    started?.enricher?.enrich(sampleExec({ process: sampleProcess({ containerId: id, docker: id.slice(0, 31), nspid: 1 }) }), (e) => out.push(e));
    t.is((out[0] as ProcessExecEvent).process.pod?.name, 'web-1');
    t.regex(ctx.metrics.render(), /^execscope_k8s_informer_synced 1$/m);
    for (let i = 0; i < 100 && api.openWatches === 0; i++) await new Promise((r) => setTimeout(r, 10));
    t.is(api.openWatches, 1);
    await started?.enricher?.close(100);
    await started?.close?.(100);
    for (let i = 0; i < 100 && api.openWatches > 0; i++) await new Promise((r) => setTimeout(r, 10));
    t.is(api.openWatches, 0);
  } finally {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('an unreachable API does not stop the agent: start returns after the sync timeout and warns', async (t) => {
  const api = await FakeKubeApi.start();
  const dir = await mkdtemp(join(tmpdir(), 'execscope-feature-'));
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg: string, _attrs?: LogAttributes) => void warnings.push(msg) };
  try {
    api.setDown(true);
    const feature = new K8sFeature({ env: {}, syncTimeoutMs: 150, backoff: { initialMs: 20, maxMs: 50 } });
    const begun = Date.now();
    const started = await feature.start(parse(feature, ['--enable-k8s-api', '--kubeconfig', await api.writeKubeconfig(dir)]), context(logger));
    t.true(Date.now() - begun < 2000);
    t.truthy(started?.enricher);
    t.true(warnings.some((w) => w.includes('no pod list yet')));
    await started?.enricher?.close(100);
    await started?.close?.(100);
  } finally {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
});
