// test/unit/deploy/manifests.test.ts
// The DaemonSet manifests and Helm chart: hostPID, capabilities, mounts, probes, NODE_NAME, RBAC, image, options.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { Command } from 'commander';
import yaml from 'js-yaml';
import { registerAgent } from '../../../receiver/src/cli/agent.js';
import { agentFeatures } from '../../../receiver/src/cli/agent-features.js';
import type { AgentFeature } from '../../../receiver/src/cli/agent-feature.js';
import { PROJECT_ROOT } from '../../helpers/agent.js';
import { mergeValues, renderTemplate } from '../../helpers/mini-helm.js';

type Obj = Record<string, unknown>;

const DEPLOY = join(PROJECT_ROOT, 'deploy');
const CHART = join(DEPLOY, 'helm', 'execscope');
const CONFIG_DIR = '/etc/execscope/config.d';

function parseDocs(text: string): Obj[] {
  return yaml.loadAll(text).filter((d): d is Obj => d !== null && typeof d === 'object');
}

function plainManifests(): Obj[] {
  const kustomization = yaml.load(readFileSync(join(DEPLOY, 'kubernetes', 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  return kustomization.resources.flatMap((file) => parseDocs(readFileSync(join(DEPLOY, 'kubernetes', file), 'utf8')));
}

function renderChart(overrides: Obj = {}, namespace = 'monitoring'): Obj[] {
  const chart = yaml.load(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Obj;
  const values = mergeValues(yaml.load(readFileSync(join(CHART, 'values.yaml'), 'utf8')), overrides);
  const context = {
    Values: values,
    Release: { Name: 'execscope', Namespace: namespace },
    Chart: { Name: chart['name'], Version: chart['version'], AppVersion: chart['appVersion'] },
  };
  const docs: Obj[] = [];
  for (const file of readdirSync(join(CHART, 'templates')).sort()) {
    const rendered = renderTemplate(readFileSync(join(CHART, 'templates', file), 'utf8'), context);
    if (file.endsWith('.yaml')) docs.push(...parseDocs(rendered));
  }
  return docs;
}

function only(docs: Obj[], kind: string): Obj {
  const found = docs.filter((d) => d['kind'] === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

function get(obj: unknown, path: string): unknown {
  let current = obj;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Obj)[key];
  }
  return current;
}

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: Obj }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Obj;
  livenessProbe?: Obj;
  startupProbe?: Obj;
  resources?: { requests?: Obj; limits?: Obj };
  securityContext?: { privileged?: boolean; capabilities?: { add?: string[]; drop?: string[] }; runAsUser?: number };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

function agentContainer(daemonSet: Obj): Container {
  const containers = get(daemonSet, 'spec.template.spec.containers') as Container[];
  const container = containers.find((c) => c.name === 'execscope');
  if (container === undefined) throw new Error('no execscope container');
  return container;
}

/** hostPath of the volume mounted at mountPath, or undefined. */
function hostPathAt(daemonSet: Obj, container: Container, mountPath: string): string | undefined {
  const mount = container.volumeMounts?.find((m) => m.mountPath === mountPath);
  const volumes = get(daemonSet, 'spec.template.spec.volumes') as Obj[];
  const volume = volumes.find((v) => v['name'] === mount?.name);
  return get(volume, 'hostPath.path') as string | undefined;
}

const variants: ReadonlyArray<readonly [string, () => Obj[]]> = [
  ['plain manifests', plainManifests],
  ['Helm chart (default values)', () => renderChart()],
];

for (const [name, load] of variants) {
  test(`${name}: hostPID, no privileged, BPF capabilities without SYS_ADMIN`, (t) => {
    const ds = only(load(), 'DaemonSet');
    t.is(get(ds, 'spec.template.spec.hostPID'), true);
    const c = agentContainer(ds);
    t.not(c.securityContext?.privileged, true);
    t.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
    const add = c.securityContext?.capabilities?.add ?? [];
    for (const cap of ['BPF', 'PERFMON', 'SYS_RESOURCE']) t.true(add.includes(cap), `adds CAP_${cap}`);
    t.false(add.includes('SYS_ADMIN'), 'SYS_ADMIN is opt-in');
    t.is(c.securityContext?.runAsUser, 0);
  });

  test(`${name}: host /proc, cgroups and BTF are mounted read-only and --procfs points at /proc`, (t) => {
    const ds = only(load(), 'DaemonSet');
    const c = agentContainer(ds);
    t.is(hostPathAt(ds, c, '/sys/kernel/btf'), '/sys/kernel/btf');
    t.is(hostPathAt(ds, c, '/sys/fs/cgroup'), '/sys/fs/cgroup');
    const procfs = c.args?.find((a) => a.startsWith('--procfs='))?.slice('--procfs='.length);
    t.truthy(procfs);
    t.is(hostPathAt(ds, c, procfs!), '/proc');
    for (const path of ['/sys/kernel/btf', '/sys/fs/cgroup', procfs!]) {
      t.true(c.volumeMounts?.find((m) => m.mountPath === path)?.readOnly, `${path} read-only`);
    }
  });

  test(`${name}: probes hit /readyz and /healthz of a metrics server bound to the pod IP`, (t) => {
    const c = agentContainer(only(load(), 'DaemonSet'));
    const metricsArg = c.args?.find((a) => a.startsWith('--metrics-server='));
    const m = /^--metrics-server=([^:]*):(\d+)$/.exec(metricsArg ?? '');
    t.truthy(m, 'metrics server in args, not in the ConfigMap, so the probes always have it');
    t.is(m?.[1], '0.0.0.0', 'the kubelet probes the pod IP; 127.0.0.1 would fail');
    const port = c.ports?.find((p) => p.name === 'metrics');
    t.is(port?.containerPort, Number(m?.[2]));
    t.is(get(c.readinessProbe, 'httpGet.path'), '/readyz');
    t.is(get(c.livenessProbe, 'httpGet.path'), '/healthz');
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) t.is(get(probe, 'httpGet.port'), 'metrics');
  });

  test(`${name}: NODE_NAME from the downward API, resources bounded`, (t) => {
    const c = agentContainer(only(load(), 'DaemonSet'));
    const nodeName = c.env?.find((e) => e.name === 'NODE_NAME');
    t.is(get(nodeName?.valueFrom, 'fieldRef.fieldPath'), 'spec.nodeName');
    for (const key of ['cpu', 'memory']) {
      t.truthy(c.resources?.requests?.[key], `requests.${key}`);
      t.truthy(c.resources?.limits?.[key], `limits.${key}`);
    }
    const heap = c.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(heap)?.[1]);
    t.true(heapMb > 0 && heapMb * 1024 * 1024 < parseQuantity(String(c.resources?.limits?.['memory'])), 'V8 heap below the memory limit');
  });

  test(`${name}: RBAC is least privilege and bound to the DaemonSet's ServiceAccount`, (t) => {
    const docs = load();
    const role = only(docs, 'ClusterRole');
    t.deepEqual(role['rules'], [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
    ]);
    t.false(docs.some((d) => d['kind'] === 'Role' || d['kind'] === 'RoleBinding'));
    const binding = only(docs, 'ClusterRoleBinding');
    const sa = only(docs, 'ServiceAccount');
    const ds = only(docs, 'DaemonSet');
    t.is(get(binding, 'roleRef.name'), get(role, 'metadata.name'));
    t.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: get(sa, 'metadata.name'), namespace: get(sa, 'metadata.namespace') }]);
    t.is(get(ds, 'spec.template.spec.serviceAccountName'), get(sa, 'metadata.name'));
    t.is(get(ds, 'metadata.namespace'), get(sa, 'metadata.namespace'));
  });

  test(`${name}: the ConfigMap is mounted where the entrypoint reads it and holds only known agent flags`, async (t) => {
    const docs = load();
    const ds = only(docs, 'DaemonSet');
    const cm = only(docs, 'ConfigMap');
    const c = agentContainer(ds);
    const mount = c.volumeMounts?.find((m) => m.mountPath === CONFIG_DIR);
    const volume = (get(ds, 'spec.template.spec.volumes') as Obj[]).find((v) => v['name'] === mount?.name);
    t.is(get(volume, 'configMap.name'), get(cm, 'metadata.name'));
    const data = cm['data'] as Record<string, string>;
    t.is(data['enable-k8s-api'], 'true');
    await assertKnownFlags(t, data);
  });
}

test('the entrypoint turns the ConfigMap into flags, before the container args', (t) => {
  const cm = only(plainManifests(), 'ConfigMap');
  const dir = mkdtempSync(join(tmpdir(), 'execscope-entry-'));
  try {
    const configDir = join(dir, 'config.d');
    execFileSync('mkdir', ['-p', configDir]);
    for (const [key, value] of Object.entries(cm['data'] as Record<string, string>)) writeFileSync(join(configDir, key), value);
    // ConfigMap volumes carry dot-entries that are not options.
    writeFileSync(join(configDir, '..data'), 'ignored');
    writeFileSync(join(configDir, 'export-allowlist'), '{"event_set":["PROCESS_EXEC"]}\n{"binary_regex":["^/usr/bin/(curl|wget)$"]}\n');
    const fakeAgent = join(dir, 'print-args.js');
    writeFileSync(fakeAgent, 'process.stdout.write(JSON.stringify(process.argv.slice(2)));\n');
    const out = execFileSync('bash', [join(DEPLOY, 'docker', 'entrypoint.sh'), '--metrics-server=0.0.0.0:2112'], {
      env: { ...process.env, EXECSCOPE_CONFIG_DIR: configDir, EXECSCOPE_BIN: fakeAgent },
      encoding: 'utf8',
    });
    const args = JSON.parse(out) as string[];
    t.is(args[0], 'agent');
    t.true(args.includes('--enable-k8s-api'), 'true becomes a switch');
    t.true(args.includes('--k8s-pod-wait=2s'));
    t.false(args.some((a) => a.startsWith('--enable-pod-annotations')), 'false is left out');
    t.false(args.some((a) => a.startsWith('--otlp-endpoint')), 'empty is left out');
    t.true(args.includes('--export-allowlist={"event_set":["PROCESS_EXEC"]}\n{"binary_regex":["^/usr/bin/(curl|wget)$"]}'), 'multi-line values stay one argument');
    t.false(args.some((a) => a.includes('..data') || a.includes('ignored')));
    t.is(args[args.length - 1], '--metrics-server=0.0.0.0:2112', 'container args come last and win');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Helm: values for OTLP, export file, filters and enrichment reach the ConfigMap as agent flags', async (t) => {
  const docs = renderChart({
    otlp: { endpoint: 'http://otel-collector.observability:4317', insecure: true, compression: 'gzip', headers: 'api-key=secret' },
    exportFile: { enabled: true, filename: '/var/run/execscope/events.log', compress: true },
    filters: {
      allowlist: '{"event_set":["PROCESS_EXEC"]}',
      denylist: '{"namespace":["kube-system"]}',
      fieldFilters: '{"fields":"process.exec_id","action":"INCLUDE"}',
    },
    enrichment: { podWait: '500ms', podAnnotations: true, ancestors: 'base' },
    extraOptions: { 'process-cache-size': '131072' },
  });
  const data = only(docs, 'ConfigMap')['data'] as Record<string, string>;
  t.like(data, {
    'otlp-endpoint': 'http://otel-collector.observability:4317',
    'otlp-insecure': 'true',
    'export-filename': '/var/run/execscope/events.log',
    'export-file-max-size-mb': '10',
    'export-denylist': '{"namespace":["kube-system"]}',
    'k8s-pod-wait': '500ms',
    'enable-pod-annotations': 'true',
    'enable-ancestors': 'base',
    'process-cache-size': '131072',
  });
  await assertKnownFlags(t, data);
  const env = agentContainer(only(docs, 'DaemonSet')).env ?? [];
  t.is(env.find((e) => e.name === 'OTEL_EXPORTER_OTLP_HEADERS')?.value, 'api-key=secret');
});

test('Helm: without OTLP, export file or k8s, their options are absent', (t) => {
  const data = only(renderChart({ enrichment: { k8sApi: false } }), 'ConfigMap')['data'] as Record<string, string>;
  t.is(data['enable-k8s-api'], 'false');
  for (const key of ['otlp-endpoint', 'export-filename', 'k8s-pod-wait']) t.false(key in data, key);
});

test('Helm: SYS_ADMIN and privileged only when asked for', (t) => {
  const c = agentContainer(only(renderChart({ securityContext: { sysAdmin: true, privileged: true } }), 'DaemonSet'));
  t.true(c.securityContext?.capabilities?.add?.includes('SYS_ADMIN'));
  t.true(c.securityContext?.privileged);
});

test('Helm: rbac.create and serviceAccount.create false leave them out; namespace and names follow the release', (t) => {
  const docs = renderChart({ rbac: { create: false }, serviceAccount: { create: false, name: 'existing' } });
  t.deepEqual(docs.map((d) => d['kind']).sort(), ['ConfigMap', 'DaemonSet']);
  const ds = only(docs, 'DaemonSet');
  t.is(get(ds, 'spec.template.spec.serviceAccountName'), 'existing');
  t.is(get(ds, 'metadata.namespace'), 'monitoring');
});

test('Helm: tolerations, node selector, pull secrets and extra env render as lists and maps', (t) => {
  const ds = only(
    renderChart({
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      imagePullSecrets: [{ name: 'regcred' }],
      extraEnv: [{ name: 'EXECSCOPE_LOG_LEVEL', value: 'debug' }],
    }),
    'DaemonSet',
  );
  t.deepEqual(get(ds, 'spec.template.spec.nodeSelector'), { 'kubernetes.io/os': 'linux' });
  t.deepEqual(get(ds, 'spec.template.spec.imagePullSecrets'), [{ name: 'regcred' }]);
  t.deepEqual(get(ds, 'spec.template.spec.tolerations'), [{ operator: 'Exists' }]);
  t.true(agentContainer(ds).env?.some((e) => e.name === 'EXECSCOPE_LOG_LEVEL' && e.value === 'debug'));
  t.is(get(ds, 'spec.template.spec.priorityClassName'), 'system-node-critical');
});

test('Helm: NOTES render', (t) => {
  const notes = renderTemplate(readFileSync(join(CHART, 'templates', 'NOTES.txt'), 'utf8'), {
    Values: yaml.load(readFileSync(join(CHART, 'values.yaml'), 'utf8')),
    Release: { Name: 'execscope', Namespace: 'monitoring' },
    Chart: {},
  });
  t.regex(notes, /kubectl -n monitoring exec ds\/execscope -- execscope getevents/);
});

test('the mini renderer refuses syntax it does not know', (t) => {
  const context = { Values: {}, Release: { Name: 'r', Namespace: 'n' }, Chart: {} };
  t.throws(() => renderTemplate('{{ include "x" . }}', context));
  t.throws(() => renderTemplate('{{ if .Values.a }}x', context));
  t.throws(() => renderTemplate('{{ .Files.Get "a" }}', context));
});

test('Dockerfile: Node 20 on bookworm, BPF and addon built in a builder stage, runtime libraries only', (t) => {
  const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => m[1]);
  t.is(stages.length, 2);
  t.regex(dockerfile, /^ARG NODE_VERSION=20$/m);
  t.is(stages[0], 'node:${NODE_VERSION}-bookworm');
  t.is(stages[1], 'node:${NODE_VERSION}-bookworm-slim');
  const [builder, runtime] = dockerfile.split(/^FROM /m).slice(1);
  for (const pkg of ['clang', 'libbpf-dev', 'bpftool']) t.regex(builder ?? '', new RegExp(`\\b${pkg}\\b`));
  t.regex(builder ?? '', /make -C bpf/);
  t.regex(builder ?? '', /build-native\.mjs/);
  for (const pkg of ['libbpf1', 'libelf1', 'zlib1g']) t.regex(runtime ?? '', new RegExp(`\\b${pkg}\\b`));
  t.notRegex(runtime ?? '', /clang|libbpf-dev/);
  t.regex(runtime ?? '', /build\/Release\/execscope\.node/);
  t.regex(runtime ?? '', /ENTRYPOINT \["\/usr\/local\/bin\/execscope-entrypoint"\]/);
  for (const m of dockerfile.matchAll(/^COPY\s+(?!--from)(\S+)\s/gm)) {
    for (const src of m[1]!.split(/\s+/)) t.true(existsSync(join(PROJECT_ROOT, src)), `COPY source ${src} exists`);
  }
});

/**
 * Flag names (without dashes) the agent accepts once every feature in receiver/src/cli/features/ is wired:
 * agentFeatures() plus any feature module not (yet) in it.
 */
async function agentFlagNames(): Promise<Set<string>> {
  const features = agentFeatures();
  const dir = join(PROJECT_ROOT, 'dist', 'receiver', 'src', 'cli', 'features');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const module = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      const feature = asFeature(value);
      if (feature !== undefined && !features.some((f) => f.name === feature.name)) features.push(feature);
    }
  }
  const program = new Command('execscope');
  registerAgent(program, features);
  const agent = program.commands.find((c) => c.name() === 'agent');
  return new Set((agent?.options ?? []).map((o) => o.long?.replace(/^--/, '') ?? ''));
}

function asFeature(value: unknown): AgentFeature | undefined {
  const isFeature = (v: unknown): v is AgentFeature =>
    typeof v === 'object' && v !== null && typeof (v as AgentFeature).addOptions === 'function' && typeof (v as AgentFeature).start === 'function';
  if (isFeature(value)) return value;
  if (typeof value === 'function' && typeof (value.prototype as Partial<AgentFeature> | undefined)?.addOptions === 'function') {
    const instance: unknown = new (value as new () => unknown)();
    return isFeature(instance) ? instance : undefined;
  }
  return undefined;
}

/** Every key of a rendered ConfigMap that the entrypoint turns into a flag must be one the agent knows. */
async function assertKnownFlags(t: ExecutionContext, data: Record<string, string>): Promise<void> {
  const known = await agentFlagNames();
  for (const [key, value] of Object.entries(data)) {
    t.is(typeof value, 'string', `${key} is a string`);
    // Empty and "false" entries are left out by the entrypoint; everything else must be a real flag.
    if (value !== '' && value !== 'false') t.true(known.has(key), `--${key} is an agent flag`);
  }
}

/** Kubernetes memory quantity (Mi, Gi, M, G or bytes) in bytes. */
function parseQuantity(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(q);
  if (m === null) throw new Error(`unsupported quantity ${q}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}
