// test/unit/fuzz/mutated-json.ts
// fast-check generators of almost-valid JSON: real event lines and filters with values swapped, keys renamed or dropped.

import fc from 'fast-check';
import { encodeEventJson } from '../../../receiver/src/encode/json-encoder.js';
import { event as arbitraryEvent, hostileString } from '../encode/arbitrary-events.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values a decoder must survive in any position: wrong types, huge and fractional numbers, odd strings. */
export const hostileJsonValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 2 ** 53 + 2, -(2 ** 31) - 1, 2 ** 32, 1e308, -0, '', '0', '-1', '1e3', '18446744073709551616', '99999999999999999999', 'NaN'),
  fc.constantFrom<Json>('1970-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z', '2024-02-30T00:00:00Z', '2024-01-01T24:00:00+25:00', '15s', '-1.5s'),
  fc.constantFrom<Json>('PROCESS_EXEC', 'PROCESS_EXIT', 'INCLUDE', 'EXCLUDE', 'UNDEF', '__proto__', 'constructor'),
  hostileString(16),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.array(hostileString(8), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('value', 'seconds', 'nanos', '__proto__', 'x'), fc.oneof(fc.integer(), hostileString(4)), { maxKeys: 2 }),
);

/** Every path (list of keys/indices) to a value inside `root`, root excluded. */
function pathsOf(root: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(root)) {
    root.forEach((v, i) => {
      out.push([...prefix, i]);
      pathsOf(v, [...prefix, i], out);
    });
  } else if (root !== null && typeof root === 'object') {
    for (const [k, v] of Object.entries(root)) {
      out.push([...prefix, k]);
      pathsOf(v, [...prefix, k], out);
    }
  }
  return out;
}

const camel = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

type Mutation =
  | { readonly op: 'replace'; readonly at: number; readonly value: Json }
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'camel'; readonly at: number }
  | { readonly op: 'add'; readonly at: number; readonly key: string; readonly value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: hostileJsonValue }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('camel' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(hostileString(6), fc.constantFrom('pid', 'binary', 'process', 'pod', 'time', 'value')), value: hostileJsonValue }),
);

/** Applies mutations in place; `at` picks a path modulo the number of paths (the tree changes as we go). */
function mutate(root: { [key: string]: Json }, mutations: readonly Mutation[]): void {
  for (const m of mutations) {
    const paths = pathsOf(root);
    if (paths.length === 0) return;
    const path = paths[m.at % paths.length] ?? [];
    let parent: Json = root;
    for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[key] as Json;
    const last = path[path.length - 1] as string | number;
    const holder = parent as Record<string | number, Json>;
    switch (m.op) {
      case 'replace':
        holder[last] = m.value;
        break;
      case 'delete':
        if (Array.isArray(holder)) (holder as Json[]).splice(Number(last), 1);
        else delete holder[last];
        break;
      case 'camel':
        if (!Array.isArray(holder) && typeof last === 'string' && camel(last) !== last) {
          holder[camel(last)] = holder[last] as Json;
          delete holder[last];
        }
        break;
      case 'add': {
        const target = holder[last];
        if (target !== null && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, Json>)[m.key] = m.value;
        break;
      }
    }
  }
}

/** A real Tetragon JSON event line with up to 6 mutations. */
export const mutatedEventLine: fc.Arbitrary<string> = fc.tuple(arbitraryEvent, fc.array(mutation, { maxLength: 6 })).map(([e, mutations]) => {
  const root = JSON.parse(encodeEventJson(e)) as { [key: string]: Json };
  mutate(root, mutations);
  return JSON.stringify(root);
});

/** Any text, JSON or not, a mutated event line, or such a line cut short. */
export const anyEventLine: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: mutatedEventLine, weight: 4 },
  { arbitrary: mutatedEventLine.chain((l) => fc.nat({ max: l.length }).map((n) => l.slice(0, n))), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 1 },
  { arbitrary: fc.json({ maxDepth: 3 }), weight: 1 },
);

const FILTER_KEYS = [
  'binary_regex', 'namespace', 'health_check', 'pid', 'pid_set', 'event_set', 'pod_regex', 'arguments_regex', 'labels', 'policy_names',
  'capabilities', 'parent_binary_regex', 'cel_expression', 'parent_arguments_regex', 'container_id', 'in_init_tree',
  'ancestor_binary_regex', 'container_name_regex', 'namespace_regex',
] as const;

/** Plausible values per Filter field kind, mixed with hostile ones. */
const filterValue = (key: string): fc.Arbitrary<Json> => {
  const regexes = fc.array(fc.oneof({ arbitrary: fc.constantFrom('a', '^/bin/', 'curl$', '(?i)x', '[[:alpha:]]+', '\\pL', '(a+)+$', '(?P<n>x)', '(', '\\8'), weight: 3 }, { arbitrary: hostileString(8), weight: 1 }), { maxLength: 3 });
  const plausible = (arb: fc.Arbitrary<Json>): fc.Arbitrary<Json> => fc.oneof({ arbitrary: arb, weight: 6 }, { arbitrary: hostileJsonValue, weight: 1 });
  if (key === 'pid' || key === 'pid_set') return plausible(fc.array(fc.nat({ max: 5 }), { maxLength: 3 }));
  if (key === 'event_set') return plausible(fc.array(fc.constantFrom<Json>('PROCESS_EXEC', 'PROCESS_EXIT', 'PROCESS_KPROBE', 1, 5, 9, 77), { maxLength: 3 }));
  if (key === 'health_check' || key === 'in_init_tree') return plausible(fc.boolean());
  if (key === 'labels') return plausible(fc.array(fc.constantFrom('app=web', 'tier in (a,b)', '!x', 'app', 'k>1', 'a b', 'x notin (y)'), { maxLength: 2 }));
  if (key === 'namespace') return plausible(fc.array(fc.oneof(fc.constantFrom('', 'default', 'kube-system'), hostileString(6)), { maxLength: 3 }));
  if (key === 'cel_expression' || key === 'capabilities') return plausible(fc.constant([]));
  return plausible(regexes);
};

/** A Filter-shaped JSON object: a few known keys (snake or camel case), sometimes an unknown one. */
export const filterObject: fc.Arbitrary<{ [key: string]: Json }> = fc
  .uniqueArray(fc.constantFrom(...FILTER_KEYS), { maxLength: 4 })
  .chain((keys) =>
    fc.tuple(
      fc.tuple(...keys.map((k) => fc.tuple(fc.boolean(), filterValue(k)))),
      fc.oneof({ arbitrary: fc.constant(null), weight: 12 }, { arbitrary: fc.tuple(hostileString(6), hostileJsonValue), weight: 1 }),
    ).map(([values, extra]) => {
      const out: { [key: string]: Json } = {};
      keys.forEach((k, i) => {
        const [useCamel, value] = values[i] ?? [false, null];
        out[useCamel ? camel(k) : k] = value;
      });
      if (extra !== null) out[extra[0]] = extra[1];
      return out;
    }),
  );

/** Filter list text: objects one per line or space-separated, sometimes with junk around them. */
export const filterListText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.array(filterObject, { maxLength: 3 }).chain((objs) => fc.constantFrom('\n', ' ', '\n\n').map((sep) => objs.map((o) => JSON.stringify(o)).join(sep))), weight: 5 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 1 },
  { arbitrary: fc.array(fc.json({ maxDepth: 2 }), { maxLength: 3 }).map((xs) => xs.join('\n')), weight: 1 },
  { arbitrary: filterObject.chain((o) => fc.nat({ max: JSON.stringify(o).length }).map((n) => JSON.stringify(o).slice(0, n))), weight: 1 },
);
