// test/unit/enrich/workload.test.ts
// Workload and workload kind derived from pod metadata (spec §7.4).

import test from 'ava';
import { workloadOf } from '../../../receiver/src/enrich/workload.js';
import type { PodMetadataLike } from '../../../receiver/src/enrich/workload.js';

function controlledBy(kind: string, owner: string, name: string, labels: Record<string, string> = {}): PodMetadataLike {
  return {
    name,
    generateName: `${owner}-`,
    labels,
    ownerReferences: [{ kind, name: owner, controller: true }],
  };
}

test('Deployment: ReplicaSet name minus the pod-template-hash', (t) => {
  const meta = controlledBy('ReplicaSet', 'frontend-6d8f7c9b54', 'frontend-6d8f7c9b54-x2x7k', {
    'pod-template-hash': '6d8f7c9b54',
    app: 'frontend',
  });
  t.deepEqual(workloadOf(meta), { name: 'frontend', kind: 'Deployment' });
});

test('a ReplicaSet without the hash label (or not ending with it) stays a ReplicaSet', (t) => {
  t.deepEqual(workloadOf(controlledBy('ReplicaSet', 'bare-rs', 'bare-rs-abcde')), { name: 'bare-rs', kind: 'ReplicaSet' });
  t.deepEqual(workloadOf(controlledBy('ReplicaSet', 'rs-123', 'rs-123-abcde', { 'pod-template-hash': '999' })), {
    name: 'rs-123',
    kind: 'ReplicaSet',
  });
});

test('CronJob: Job name minus the scheduled-time suffix (8 to 10 digits)', (t) => {
  t.deepEqual(workloadOf(controlledBy('Job', 'backup-28391520', 'backup-28391520-9xk2p')), { name: 'backup', kind: 'CronJob' });
  t.deepEqual(workloadOf(controlledBy('Job', 'nightly-report-2839152012', 'nightly-report-2839152012-q')), {
    name: 'nightly-report',
    kind: 'CronJob',
  });
});

test('a plain Job (short or no numeric suffix) stays a Job', (t) => {
  t.deepEqual(workloadOf(controlledBy('Job', 'migrate-1234567', 'migrate-1234567-abcde')), { name: 'migrate-1234567', kind: 'Job' });
  t.deepEqual(workloadOf(controlledBy('Job', 'migrate', 'migrate-abcde')), { name: 'migrate', kind: 'Job' });
  t.deepEqual(workloadOf(controlledBy('Job', 'x-12345678901', 'x-12345678901-a')), { name: 'x-12345678901', kind: 'Job' });
});

test('DaemonSet and StatefulSet are their controller', (t) => {
  t.deepEqual(workloadOf(controlledBy('DaemonSet', 'execscope', 'execscope-7xkq2')), { name: 'execscope', kind: 'DaemonSet' });
  t.deepEqual(workloadOf(controlledBy('StatefulSet', 'web', 'web-0')), { name: 'web', kind: 'StatefulSet' });
});

test('DeploymentConfig from the deploymentconfig label of a ReplicationController', (t) => {
  const meta = controlledBy('ReplicationController', 'api-3', 'api-3-abcde', { deploymentconfig: 'api' });
  t.deepEqual(workloadOf(meta), { name: 'api', kind: 'DeploymentConfig' });
  t.deepEqual(workloadOf(controlledBy('ReplicationController', 'rc', 'rc-abcde')), { name: 'rc', kind: 'ReplicationController' });
});

test('bare and static pods are their own workload of kind Pod', (t) => {
  t.deepEqual(workloadOf({ name: 'debug' }), { name: 'debug', kind: 'Pod' });
  // A static pod's mirror is owned by its Node but has no generateName.
  t.deepEqual(
    workloadOf({ name: 'kube-apiserver-node1', ownerReferences: [{ kind: 'Node', name: 'node1', controller: true }] }),
    { name: 'kube-apiserver-node1', kind: 'Pod' },
  );
});

test('generateName without a controller reference is a Pod', (t) => {
  t.deepEqual(
    workloadOf({ name: 'gen-abcde', generateName: 'gen-', ownerReferences: [{ kind: 'ReplicaSet', name: 'rs', controller: false }] }),
    { name: 'gen-abcde', kind: 'Pod' },
  );
  t.deepEqual(workloadOf({ name: 'gen-abcde', generateName: 'gen-' }), { name: 'gen-abcde', kind: 'Pod' });
});

test('the controller reference is chosen among several owners', (t) => {
  const meta: PodMetadataLike = {
    name: 'w-0',
    generateName: 'w-',
    ownerReferences: [
      { kind: 'ConfigMap', name: 'cm' },
      { kind: 'StatefulSet', name: 'w', controller: true },
    ],
  };
  t.deepEqual(workloadOf(meta), { name: 'w', kind: 'StatefulSet' });
});

test('custom controllers (e.g. Argo Rollouts) are reported by their kind', (t) => {
  t.deepEqual(workloadOf(controlledBy('Rollout', 'canary', 'canary-abcde')), { name: 'canary', kind: 'Rollout' });
});
