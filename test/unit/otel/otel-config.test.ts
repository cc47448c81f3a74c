// test/unit/otel/otel-config.test.ts
// The Grafana dashboard and the Loki config query only names execscope actually sends.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { EVENT_PROCESS_EXEC, EVENT_PROCESS_EXIT } from '../../../semconv/attributes.js';
import { ATTRIBUTE_MAPPING } from '../../../semconv/mapping.js';
import { PROJECT_ROOT } from '../../helpers/agent.js';

interface Panel {
  readonly title: string;
  readonly type: string;
  readonly targets?: readonly { readonly expr: string }[];
  readonly fieldConfig?: { readonly overrides?: readonly { readonly matcher: { readonly options: string }; readonly properties: readonly { readonly id: string; readonly value: unknown }[] }[] };
  readonly transformations?: readonly { readonly id: string; readonly options: Record<string, unknown> }[];
}

const dashboard = JSON.parse(readFileSync(join(PROJECT_ROOT, 'otel-config', 'grafana', 'execscope-exec-events.json'), 'utf8')) as {
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string; readonly query: unknown }[] };
};

/** Loki's name for an OTLP attribute: every character outside [a-zA-Z0-9_] becomes `_`. */
const lokiName = (attribute: string) => attribute.replace(/[^a-zA-Z0-9_]/g, '_');

/** Names a record can be filtered or grouped by in Loki: labels, structured metadata, and Loki's own fields. */
const KNOWN = new Set([
  ...ATTRIBUTE_MAPPING.filter((row) => row.template !== true).map((row) => lokiName(row.attribute)),
  'trace_id',
  'span_id',
  'severity_number',
  'service_name',
]);

test('every label and metadata name in the dashboard queries is one execscope sends', (t) => {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((target) => target.expr));
  t.true(exprs.length >= 5);
  for (const expr of exprs) {
    const names = [
      ...[...expr.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => (m[1] ?? '').split(',').map((s) => s.trim())),
      ...[...expr.matchAll(/([a-z_][a-z0-9_]*)\s*(?:=~|!=|=)\s*"/g)].map((m) => m[1] ?? ''),
    ];
    for (const name of names) t.true(KNOWN.has(name), `${name} in: ${expr}`);
    for (const value of expr.matchAll(/event_name="([^"]+)"/g)) {
      t.true([EVENT_PROCESS_EXEC, EVENT_PROCESS_EXIT].includes(value[1] as typeof EVENT_PROCESS_EXEC), value[1]);
    }
  }
});

test('the dashboard has the panels the issue asks for, and trace ids link to the trace', (t) => {
  const titles = dashboard.panels.map((p) => p.title);
  t.deepEqual(titles, ['Execs per namespace', 'Execs per pod (top 10)', 'Top binaries', 'Non-zero exits and signals', 'Recent execs']);
  const byTitle = (title: string) => dashboard.panels.find((p) => p.title === title);
  t.regex(byTitle('Execs per namespace')?.targets?.[0]?.expr ?? '', /sum by \(k8s_namespace_name\)/);
  t.regex(byTitle('Top binaries')?.targets?.[0]?.expr ?? '', /topk\(\d+, sum by \(process_executable_path\)/);
  t.regex(byTitle('Non-zero exits and signals')?.targets?.[0]?.expr ?? '', /process_exit_code != "0" or execscope_signal != ""/);
  const table = byTitle('Recent execs');
  t.is(table?.type, 'table');
  const traceOverride = table?.fieldConfig?.overrides?.find((o) => o.matcher.options === 'trace');
  const links = traceOverride?.properties.find((p) => p.id === 'links')?.value as readonly { url: string }[] | undefined;
  t.truthy(links?.[0]?.url.includes('${__value.raw}'));
  t.truthy(links?.[0]?.url.includes('tempo'));
  const organize = table?.transformations?.find((tr) => tr.id === 'organize');
  t.true(Object.keys((organize?.options['includeByName'] ?? {}) as object).includes('trace_id'));
  t.deepEqual(dashboard.templating.list.map((v) => v.name), ['loki', 'tempo', 'service', 'namespace', 'node']);
});

test('Loki indexes the labels the dashboard selects on', (t) => {
  const loki = readFileSync(join(PROJECT_ROOT, 'otel-config', 'loki.yaml'), 'utf8');
  const block = /default_resource_attributes_as_index_labels:\n((?:\s+- .+\n)+)/.exec(loki)?.[1] ?? '';
  const labels = block.split('\n').map((line) => line.replace(/^\s*- /, '').trim()).filter((s) => s !== '');
  for (const attribute of ['service.name', 'k8s.namespace.name', 'k8s.pod.name', 'k8s.container.name', 'k8s.node.name', 'k8s.deployment.name']) {
    t.true(labels.includes(attribute), attribute);
  }
  t.false(labels.includes('k8s.pod.uid'), 'one stream per pod uid would explode cardinality');
  t.regex(loki, /allow_structured_metadata: true/);
});
