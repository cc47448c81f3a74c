// test/unit/otel/mapping.test.ts
// The semconv mapping table against the extractors, the documentation, and semconv/'s import rule.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as upstream from '@opentelemetry/semantic-conventions/incubating';
import test from 'ava';
import fc from 'fast-check';
import { hrTimeToRfc3339 } from '../../../receiver/src/model/hr-time.js';
import { Rfc3339Formatter } from '../../../receiver/src/otel/rfc3339-formatter.js';
import * as ours from '../../../semconv/attributes.js';
import { ATTRIBUTE_MAPPING, POD_RESOURCE_ATTRIBUTE_MAPPING, RECORD_ATTRIBUTE_MAPPING } from '../../../semconv/mapping.js';
import type { AttributeMapping, AttributeValueType } from '../../../semconv/mapping.js';
import { eventNameOf, recordAttributesOf } from '../../../receiver/src/otel/record-attributes.js';
import { podResourceAttributes, splitContainerId, splitImageName } from '../../../receiver/src/otel/resource-attributes.js';
import type { Pod } from '../../../receiver/src/model/pod.js';
import { PROJECT_ROOT } from '../../helpers/agent.js';
import { sampleExec, sampleExit, samplePod, sampleProcess } from '../../helpers/sample-events.js';

const ENV = [
  { key: 'TRACEPARENT', value: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  { key: 'LANG', value: 'C.UTF-8' },
];
const fullProcess = sampleProcess({ pod: samplePod({ workloadKind: 'Deployment', workload: 'xwing-deploy', podAnnotations: { team: 'red' } }), environmentVariables: ENV });
const fullExec = sampleExec({ process: fullProcess });
const fullExit = sampleExit({ process: fullProcess, status: 0, signal: 'SIGKILL' });

function typeOf(value: unknown): AttributeValueType | 'other' {
  if (typeof value === 'number' && Number.isInteger(value)) return 'int';
  if (typeof value === 'string') return 'string';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return 'string[]';
  return 'other';
}

/** Attribute names a row produces in `attributes` (templates match by prefix). */
function namesOfRow(row: AttributeMapping, attributes: Record<string, unknown>): string[] {
  if (row.template !== true) return row.attribute in attributes ? [row.attribute] : [];
  const prefix = row.attribute.slice(0, row.attribute.lastIndexOf('<'));
  return Object.keys(attributes).filter((name) => name.startsWith(prefix));
}

for (const [label, event] of [['exec', fullExec], ['exit', fullExit]] as const) {
  test(`every ${label} record attribute comes from a table row of the right type, and only rows for ${label}`, (t) => {
    const attributes = recordAttributesOf(event) as Record<string, unknown>;
    const claimed = new Set<string>();
    for (const row of RECORD_ATTRIBUTE_MAPPING) {
      const names = namesOfRow(row, attributes);
      const applies = (row.events as readonly string[]).includes(label);
      if (!applies) {
        t.deepEqual(names, [], `${row.attribute} must not appear on ${label} records`);
        continue;
      }
      if (row.presence === 'always') t.true(names.length > 0, `${row.attribute} missing on ${label}`);
      for (const name of names) {
        t.is(typeOf(attributes[name]), row.type, `${name} should be ${row.type}`);
        claimed.add(name);
      }
    }
    t.deepEqual(Object.keys(attributes).filter((name) => !claimed.has(name)), [], 'attributes outside the table');
  });
}

test('record attributes carry the faithful argv, env capture, and exit details', (t) => {
  const exec = recordAttributesOf(fullExec);
  t.deepEqual(exec['process.command_args'], ['curl', 'https://ebpf.io/applications/#tetragon']);
  t.is(exec['process.args_count'], 2);
  t.is(exec['process.executable.name'], 'curl');
  t.is(exec['process.environment_variable.TRACEPARENT'], ENV[0]?.value);
  t.is(exec['process.environment_variable.LANG'], 'C.UTF-8');
  t.is(exec['process.creation.time'], '2023-11-14T22:13:20.123456789Z');
  t.is(exec['event.name'], 'execscope.process.exec');
  t.is(eventNameOf(fullExec), 'execscope.process.exec');

  const killed = recordAttributesOf(fullExit);
  t.is(killed['process.exit.code'], 0);
  t.is(killed['execscope.signal'], 'SIGKILL');
  t.is(killed['error.type'], 'SIGKILL');
  t.is(killed['process.exit.time'], '2023-11-14T22:13:22.000000005Z');
  t.is(killed['event.name'], 'execscope.process.exit');

  const failed = recordAttributesOf(sampleExit({ status: 3 }));
  t.is(failed['error.type'], '3');
  t.false('execscope.signal' in failed);
  t.false('error.type' in recordAttributesOf(sampleExit()));
});

test('pod resource attributes: every one from a row of the right type, workload by kind', (t) => {
  const attributes = podResourceAttributes({ pod: fullProcess.pod!, nodeName: 'node-a' }) as Record<string, unknown>;
  const claimed = new Set<string>();
  for (const row of POD_RESOURCE_ATTRIBUTE_MAPPING) {
    for (const name of namesOfRow(row, attributes)) {
      t.is(typeOf(attributes[name]), row.type, `${name} should be ${row.type}`);
      claimed.add(name);
    }
  }
  t.deepEqual(Object.keys(attributes).filter((name) => !claimed.has(name)), []);
  t.is(attributes['k8s.deployment.name'], 'xwing-deploy');
  t.false('k8s.statefulset.name' in attributes);
  t.is(attributes['k8s.pod.label.app.kubernetes.io/name'], 'xwing');
  t.is(attributes['k8s.pod.annotation.team'], 'red');
  t.is(attributes['container.id'], 'ae7a1981e064c217035e0b23979c8defd51c850d1af26fbcf148187e5b0da61c');
  t.is(attributes['container.runtime.name'], 'containerd');
  t.is(attributes['container.image.name'], 'docker.io/tgraf/netperf');
  t.deepEqual(attributes['container.image.tags'], ['latest']);
  t.is(attributes['k8s.node.name'], 'node-a');

  const podWithoutContainer: { -readonly [K in keyof Pod]?: Pod[K] } = samplePod({ workloadKind: 'Pod' });
  delete podWithoutContainer.container;
  const bare = podResourceAttributes({ pod: podWithoutContainer as Pod, nodeName: 'n' });
  t.false('k8s.container.name' in bare);
  t.false('container.id' in bare);
  t.false(Object.keys(bare).some((k) => k.startsWith('k8s.deployment')));
});

test('container ids and image names split as semconv wants', (t) => {
  t.deepEqual(splitContainerId('cri-o://abc'), { runtime: 'cri-o', id: 'abc' });
  t.deepEqual(splitContainerId('abc'), { id: 'abc' });
  t.deepEqual(splitImageName('registry:5000/team/app:1.2'), { name: 'registry:5000/team/app', tag: '1.2' });
  t.deepEqual(splitImageName('registry:5000/team/app'), { name: 'registry:5000/team/app' });
  t.deepEqual(splitImageName('nginx@sha256:0123'), { name: 'nginx' });
  t.deepEqual(splitImageName('nginx:1.27@sha256:0123'), { name: 'nginx', tag: '1.27' });
});

test('every mapped attribute is documented in docs/otel.md with its type', (t) => {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'otel.md'), 'utf8');
  for (const row of ATTRIBUTE_MAPPING) {
    const escaped = row.type.replace(/[[\]]/g, '\\$&');
    const rowPattern = new RegExp(`^\\| \`${row.attribute.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\` \\| ${escaped} \\|`, 'm');
    t.regex(doc, rowPattern, `${row.attribute} (${row.type}) is not a row of a docs/otel.md table`);
  }
  t.true(doc.includes('execscope.process.exec') && doc.includes('execscope.process.exit'));
});

test('semconv/ imports nothing of ours and no OpenTelemetry package', (t) => {
  const dir = join(PROJECT_ROOT, 'semconv');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  t.true(files.length >= 2);
  for (const file of files) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const match of source.matchAll(/\bfrom\s+'([^']+)'|import\(\s*'([^']+)'/g)) {
      const specifier = match[1] ?? match[2] ?? '';
      t.true(/^\.\/[a-z-]+\.js$/.test(specifier), `${file} imports ${specifier}`);
    }
  }
});

test('every table row names an attribute once', (t) => {
  const names = ATTRIBUTE_MAPPING.map((row) => row.attribute);
  t.is(new Set(names).size, names.length);
});

test('every mapped semconv name exists in the semantic conventions, and our constants equal upstream ones', (t) => {
  // Test-time only: the incubating entry point may change in minor releases, which is why semconv/ copies.
  const upstreamNames = new Set<unknown>(Object.values(upstream));
  const templates: Record<string, (key: string) => string> = {
    'process.environment_variable.<NAME>': upstream.ATTR_PROCESS_ENVIRONMENT_VARIABLE,
    'k8s.pod.label.<key>': upstream.ATTR_K8S_POD_LABEL,
    'k8s.pod.annotation.<key>': upstream.ATTR_K8S_POD_ANNOTATION,
  };
  for (const row of ATTRIBUTE_MAPPING) {
    if (row.stability === 'execscope') {
      t.true(row.attribute.startsWith('execscope.'), `${row.attribute} is ours, so it must carry our prefix`);
      continue;
    }
    const template = templates[row.attribute];
    if (row.template === true) t.is(template?.('X'), row.attribute.replace(/<[A-Za-z]+>$/, 'X'), row.attribute);
    else t.true(upstreamNames.has(row.attribute), `${row.attribute} is not a semconv attribute`);
  }
  const upstreamByName = upstream as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(ours)) {
    if (typeof value !== 'string' || name.startsWith('ATTR_EXECSCOPE_') || name.startsWith('EVENT_') || name.endsWith('_PREFIX')) continue;
    t.is(upstreamByName[name], value, name);
  }
  t.is(ours.ATTR_K8S_POD_LABEL('app'), upstream.ATTR_K8S_POD_LABEL('app'));
  t.is(ours.ATTR_PROCESS_ENVIRONMENT_VARIABLE('PATH'), upstream.ATTR_PROCESS_ENVIRONMENT_VARIABLE('PATH'));
});

test('the cached RFC 3339 formatter prints exactly what hrTimeToRfc3339 prints', (t) => {
  const formatter = new Rfc3339Formatter();
  const nsec = fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(0, 1, 1_000, 5_000_000, 999_000_000, 999_999_000));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 1_600_000_000, max: 1_600_000_003 }), nsec), { minLength: 1, maxLength: 20 }), (times) => {
      for (const time of times) t.is(formatter.format(time), hrTimeToRfc3339(time));
    }),
  );
});
