// test/privileged/k8s-e2e.test.ts
// Real agent, real cgroups laid out as kubelet does (v1 and v2), pods from a fake API: events carry their pod.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import anyTest from 'ava';
import type { TestFn } from 'ava';
import { CLI, isRoot, metricValue, startAgent } from '../helpers/agent.js';
import type { AgentHandle } from '../helpers/agent.js';
import { FakeKubeApi } from '../helpers/fake-kube-api.js';
import { fakePod } from '../helpers/kube-pods.js';

interface PodJson {
  namespace?: string;
  name?: string;
  uid?: string;
  container?: {
    id?: string;
    name?: string;
    image?: { id?: string; name?: string };
    start_time?: string;
    pid?: number;
    maybe_exec_probe?: boolean;
  };
  pod_labels?: Record<string, string>;
  workload?: string;
  workload_kind?: string;
}
interface ProcJson {
  pid: number;
  binary: string;
  arguments?: string;
  docker?: string;
  in_init_tree?: boolean;
  pod?: PodJson;
}
interface Ev {
  process_exec?: { process: ProcJson; parent?: ProcJson };
  process_exit?: { process: ProcJson; parent?: ProcJson };
}

const NODE = 'e2e-node';
const NONCE = randomBytes(4).toString('hex');

/** Where this host mounts the v2 hierarchy and the v1 memory controller (hybrid hosts have both). */
function cgroupMounts(): { v2?: string; memory?: string } {
  const out: { v2?: string; memory?: string } = {};
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mountPoint, type, opts] = line.split(' ');
    if (mountPoint === undefined) continue;
    if (type === 'cgroup2') out.v2 = mountPoint;
    if (type === 'cgroup' && (opts ?? '').split(',').includes('memory')) out.memory = mountPoint;
  }
  return out;
}

function agentHasK8s(): boolean {
  try {
    return execFileSync(process.execPath, [CLI, 'agent', '--help'], { encoding: 'utf8' }).includes('--enable-k8s-api');
  } catch {
    return false;
  }
}

const mounts = cgroupMounts();
const skipReason = !isRoot()
  ? 'they need root (BPF, cgroups)'
  : !agentHasK8s()
    ? '`execscope agent` has no --enable-k8s-api yet (K8sFeature not in agentFeatures())'
    : mounts.v2 === undefined && mounts.memory === undefined
      ? 'no cgroup hierarchy is mounted'
      : undefined;
if (skipReason !== undefined) process.stderr.write(`\n*** SKIPPING k8s-e2e.test.ts: ${skipReason} ***\n\n`);

interface Fixture {
  readonly uid: string;
  readonly id: string;
  /** Absolute cgroup directories the fixture's processes join (v1 memory and/or v2). */
  readonly cgroups: readonly string[];
}

interface Ctx {
  api: FakeKubeApi;
  agent: AgentHandle;
  dir: string;
  created: string[];
}

const test = anyTest as TestFn<Ctx>;
const t = skipReason === undefined ? test.serial : test.skip;

function newId(): string {
  return randomBytes(32).toString('hex');
}

function newUid(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** kubelet's cgroupfs layout under v1 memory: /kubepods/besteffort/pod<uid>/<id>. */
function v1Fixture(ctx: Ctx): Fixture {
  const uid = newUid();
  const id = newId();
  const dir = join(mounts.memory!, 'kubepods', 'besteffort', `pod${uid}`, id);
  return { uid, id, cgroups: [makeCgroup(ctx, dir)] };
}

/** kubelet's systemd layout under v2: /kubepods.slice/…/kubepods-besteffort-pod<uid_>.slice/cri-containerd-<id>.scope. */
function v2Fixture(ctx: Ctx): Fixture {
  const uid = newUid();
  const id = newId();
  const slice = `kubepods-besteffort-pod${uid.replaceAll('-', '_')}.slice`;
  const dir = join(mounts.v2!, 'kubepods.slice', 'kubepods-besteffort.slice', slice, `cri-containerd-${id}.scope`);
  return { uid, id, cgroups: [makeCgroup(ctx, dir)] };
}

function makeCgroup(ctx: Ctx, dir: string): string {
  mkdirSync(dir, { recursive: true });
  // Remember every level we may have created, deepest last, for cleanup.
  for (let d = dir; d.includes('kubepods'); d = dirname(d)) if (!ctx.created.includes(d)) ctx.created.push(d);
  return dir;
}

/** Runs a shell script whose shell first moves itself into the fixture's cgroups. */
function runIn(fixture: Fixture, script: string): void {
  const join = fixture.cgroups.map((c) => `echo $$ > ${c}/cgroup.procs`).join(' && ');
  const result = spawnSync('/bin/sh', ['-c', `${join} && ${script}`], { stdio: 'pipe', timeout: 10_000 });
  if (result.status !== 0) throw new Error(`script failed (${result.status}): ${result.stderr.toString()}`);
}

function isExecOf(binary: string, arg: string) {
  return (e: Ev) => e.process_exec?.process.binary === binary && (e.process_exec.process.arguments ?? '').includes(arg);
}

test.before(async (tt) => {
  if (skipReason !== undefined) return;
  const api = await FakeKubeApi.start();
  api.addNode(NODE);
  const dir = mkdtempSync(join(tmpdir(), 'execscope-k8s-e2e-'));
  const kubeconfig = await api.writeKubeconfig(dir);
  const agent = await startAgent([
    '-o',
    'json',
    '--node-name',
    NODE,
    '--metrics-server',
    '127.0.0.1:0',
    '--enable-k8s-api',
    '--kubeconfig',
    kubeconfig,
    '--k8s-pod-wait',
    '5s',
  ]);
  tt.context = { api, agent, dir, created: [] };
});

test.after.always(async (tt) => {
  if (skipReason !== undefined || tt.context.agent === undefined) return;
  await tt.context.agent.stop();
  await tt.context.api.close();
  // Move anything left behind out, then remove the cgroups deepest first.
  for (const dir of [...tt.context.created].sort((a, b) => b.length - a.length)) {
    if (!existsSync(dir)) continue;
    const root = dir.startsWith(mounts.memory ?? '\0') ? mounts.memory! : mounts.v2!;
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        writeFileSync(join(root, 'cgroup.procs'), pid);
      } catch {
        // the process exited meanwhile
      }
    }
    try {
      rmdirSync(dir);
    } catch (error: unknown) {
      process.stderr.write(`k8s-e2e: could not remove ${dir}: ${String(error)}\n`);
    }
  }
  rmSync(tt.context.dir, { recursive: true, force: true });
});

const tv1 = mounts.memory !== undefined ? t : test.skip;
const tv2 = mounts.v2 !== undefined ? t : test.skip;

tv1('cgroup v1 (kubelet cgroupfs layout): pod, docker, container pid, Deployment workload, labels', async (tt) => {
  const { api, agent } = tt.context;
  const fx = v1Fixture(tt.context);
  api.apply(
    fakePod({
      name: 'web-6d8f7c9b54-x2x7k',
      namespace: 'shop',
      uid: fx.uid,
      node: NODE,
      labels: { app: 'web', 'pod-template-hash': '6d8f7c9b54' },
      owner: { kind: 'ReplicaSet', name: 'web-6d8f7c9b54' },
      containers: [{ name: 'app', id: fx.id, image: 'ghcr.io/acme/web:1.2' }],
    }),
  );
  await waitForIndexed(agent, 1);
  const marker = `e2e-v1-${NONCE}`;
  runIn(fx, `/bin/true ${marker}`);
  const e = await agent.waitForJson<Ev>(isExecOf('/bin/true', marker));
  const p = e.process_exec!.process;
  tt.is(p.docker, fx.id.slice(0, 31));
  tt.like(p.pod, {
    namespace: 'shop',
    name: 'web-6d8f7c9b54-x2x7k',
    uid: fx.uid,
    container: { id: `containerd://${fx.id}`, name: 'app', image: { name: 'ghcr.io/acme/web:1.2' }, pid: p.pid },
    pod_labels: { app: 'web', 'pod-template-hash': '6d8f7c9b54' },
    workload: 'web',
    workload_kind: 'Deployment',
  });
  tt.not(p.in_init_tree, true, 'a process in the host pid namespace is not in an init tree');
  const exit = await agent.waitForJson<Ev>((x) => x.process_exit?.process.pid === p.pid && (x.process_exit.process.arguments ?? '').includes(marker));
  tt.is(exit.process_exit!.process.pod?.name, 'web-6d8f7c9b54-x2x7k');
});

tv2('cgroup v2 (systemd layout) in a new pid namespace: nspid, in_init_tree, CronJob, exec probe', async (tt) => {
  const { api, agent } = tt.context;
  const fx = v2Fixture(tt.context);
  const probeArg = `e2e-probe-${NONCE}`;
  api.apply(
    fakePod({
      name: 'nightly-28391520-q7h2m',
      namespace: 'batch',
      uid: fx.uid,
      node: NODE,
      labels: { job: 'nightly' },
      owner: { kind: 'Job', name: 'nightly-28391520' },
      containers: [{ name: 'report', id: fx.id, livenessCommand: ['/bin/true', probeArg] }],
    }),
  );
  await waitForIndexed(agent, 2);
  const child = `e2e-v2-child-${NONCE}`;
  const init = `e2e-v2-init-${NONCE}`;
  runIn(fx, `exec unshare --pid --fork --mount-proc /bin/sh -c '/bin/true ${child}; /bin/true ${probeArg}; exec /bin/true ${init}'`);
  const c = (await agent.waitForJson<Ev>(isExecOf('/bin/true', child))).process_exec!.process;
  const i = (await agent.waitForJson<Ev>(isExecOf('/bin/true', init))).process_exec!.process;
  const probe = (await agent.waitForJson<Ev>(isExecOf('/bin/true', probeArg))).process_exec!.process;
  for (const p of [c, i, probe]) {
    tt.is(p.docker, fx.id.slice(0, 31));
    tt.like(p.pod, { namespace: 'batch', workload: 'nightly', workload_kind: 'CronJob', container: { id: `containerd://${fx.id}`, name: 'report' } });
    tt.true(p.in_init_tree, `${p.arguments} is in the pid namespace's init tree`);
  }
  tt.is(i.pod?.container?.pid, 1, 'the shell that became pid 1 of the namespace');
  tt.is(c.pod?.container?.pid, 2, 'the first child of pid 1');
  tt.not(c.pod?.container?.maybe_exec_probe, true);
  tt.true(probe.pod?.container?.maybe_exec_probe, 'binary and arguments match the liveness probe');
});

tv1('a pod that appears after its process started: the event is held, then released with the pod', async (tt) => {
  const { api, agent } = tt.context;
  const fx = v1Fixture(tt.context);
  const marker = `e2e-late-${NONCE}`;
  runIn(fx, `/bin/true ${marker}`);
  await new Promise((r) => setTimeout(r, 500));
  // (The shell that ran it is a host process whose arguments hold the marker too: it is not held.)
  const ofTrue = (x: Ev) => (x.process_exec ?? x.process_exit)?.process.binary === '/bin/true' && ((x.process_exec ?? x.process_exit)?.process.arguments ?? '').includes(marker);
  tt.deepEqual(agent.jsonEvents<Ev>(ofTrue), [], 'held while the pod is unknown');
  api.apply(
    fakePod({ name: 'agent-7xkq2', namespace: 'kube-system', uid: fx.uid, node: NODE, owner: { kind: 'DaemonSet', name: 'agent' }, containers: [{ name: 'agent', id: fx.id }] }),
  );
  const e = await agent.waitForJson<Ev>(isExecOf('/bin/true', marker), 4000);
  tt.like(e.process_exec!.process.pod, { name: 'agent-7xkq2', workload: 'agent', workload_kind: 'DaemonSet' });
  await agent.waitForJson<Ev>((x) => x.process_exit !== undefined && ofTrue(x), 4000);
  const events = agent.jsonEvents<Ev>(ofTrue);
  tt.deepEqual(
    events.map((x) => (x.process_exec !== undefined ? 'exec' : 'exit')),
    ['exec', 'exit'],
    'the exit waited behind its held exec',
  );
  tt.is(events[1]?.process_exit?.process.pod?.name, 'agent-7xkq2');
  const metrics = await agent.metrics();
  tt.true((metricValue(metrics, 'execscope_k8s_events_held_total') ?? 0) >= 1);
});

tv1('a deleted pod still names the exit of its last process (deleted-pod cache)', async (tt) => {
  const { api, agent } = tt.context;
  const fx = v1Fixture(tt.context);
  api.apply(fakePod({ name: 'short-lived', namespace: 'default', uid: fx.uid, node: NODE, containers: [{ name: 'c', id: fx.id }] }));
  await waitForIndexed(agent, 4);
  const duration = `1.${parseInt(NONCE, 16) % 1000}`.padEnd(5, '7');
  const sleeper = spawn('/bin/sh', ['-c', `echo $$ > ${fx.cgroups[0]}/cgroup.procs && exec /bin/sleep ${duration}`], { stdio: 'ignore' });
  const exec = await agent.waitForJson<Ev>(isExecOf('/bin/sleep', duration));
  tt.is(exec.process_exec!.process.pod?.name, 'short-lived');
  api.delete('default', 'short-lived');
  const exit = await agent.waitForJson<Ev>((x) => x.process_exit?.process.pid === sleeper.pid && x.process_exit?.process.binary === '/bin/sleep', 5000);
  tt.is(exit.process_exit!.process.pod?.name, 'short-lived');
});

t('host processes carry no pod and no docker id', async (tt) => {
  const marker = `e2e-host-${NONCE}`;
  spawnSync('/bin/true', [marker]);
  const p = (await tt.context.agent.waitForJson<Ev>(isExecOf('/bin/true', marker))).process_exec!.process;
  tt.is(p.pod, undefined);
  tt.falsy(p.docker);
});

/** Waits until the agent's informer has indexed at least `pods` pods. */
async function waitForIndexed(agent: AgentHandle, pods: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const value = metricValue(await agent.metrics(), 'execscope_k8s_pods_indexed') ?? 0;
    if (value >= pods) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`agent did not index ${pods} pods`);
}
