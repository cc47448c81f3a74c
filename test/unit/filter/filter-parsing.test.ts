// test/unit/filter/filter-parsing.test.ts
// Filter list text (--export-allowlist/denylist), label selector grammar, and the JSON stream splitter.

import test from 'ava';
import { FilterError } from '../../../receiver/src/errors.js';
import { parseFilterList } from '../../../receiver/src/filter/filter-list.js';
import { parseJsonStream } from '../../../receiver/src/filter/json-stream.js';
import { parseLabelSelector } from '../../../receiver/src/filter/label-selector.js';

const opts = { allowPidSet: false };

test('Helm default lists parse (snake_case), one filter per line', (t) => {
  const allow = parseFilterList('{"event_set":["PROCESS_EXEC","PROCESS_EXIT","PROCESS_KPROBE","PROCESS_UPROBE","PROCESS_TRACEPOINT","PROCESS_LSM"]}', '--export-allowlist', opts);
  t.deepEqual(allow, [{ event_set: ['PROCESS_EXEC', 'PROCESS_EXIT', 'PROCESS_KPROBE', 'PROCESS_UPROBE', 'PROCESS_TRACEPOINT', 'PROCESS_LSM'] }]);
  const deny = parseFilterList('{"health_check":true}\n{"namespace":["","cilium","kube-system"]}\n', '--export-denylist', opts);
  t.deepEqual(deny, [{ health_check: { value: true } }, { namespace: ['', 'cilium', 'kube-system'] }]);
});

test('lowerCamelCase keys, several objects on one line, blank input', (t) => {
  t.deepEqual(parseFilterList('{"binaryRegex":["a"]} {"podRegex":["b"],"inInitTree":false}', 'x', opts), [{ binary_regex: ['a'] }, { pod_regex: ['b'], in_init_tree: { value: false } }]);
  t.deepEqual(parseFilterList('  \n ', 'x', opts), []);
});

test('unknown keys, wrong types, bad JSON and bad regexes stop with a message naming the filter', (t) => {
  t.throws(() => parseFilterList('{"binary":["a"]}', '--export-allowlist', opts), { instanceOf: FilterError, message: /^--export-allowlist, filter 1: binary: unknown field in Filter/ });
  t.throws(() => parseFilterList('{"pid":["x"]}', 'l', opts), { instanceOf: FilterError, message: /filter 1: pid\[0\]: expected an integer/ });
  t.throws(() => parseFilterList('{"namespace":"default"}', 'l', opts), { instanceOf: FilterError, message: /namespace: expected a list/ });
  t.throws(() => parseFilterList('{}\n{"event_set":["EXEC"]}', 'l', opts), { instanceOf: FilterError, message: /filter 2: event_set\[0\]: unknown EventType value "EXEC"/ });
  t.throws(() => parseFilterList('{}\n{"binary_regex":[\n', 'l', opts), { instanceOf: FilterError, message: /^l, line 2: not valid JSON/ });
  t.throws(() => parseFilterList('{"binary_regex":["(?!x)"]}', 'l', opts), { instanceOf: FilterError, message: /lookahead/ });
  t.throws(() => parseFilterList('[1]', 'l', opts), { instanceOf: FilterError, message: /expected a JSON object for Filter/ });
});

test('pid_set needs --enable-pid-set-filter', (t) => {
  t.throws(() => parseFilterList('{"pid_set":[1]}', 'l', opts), { instanceOf: FilterError, message: /--enable-pid-set-filter/ });
  t.deepEqual(parseFilterList('{"pid_set":[1]}', 'l', { allowPidSet: true }), [{ pid_set: [1] }]);
});

test('JSON stream: strings containing braces, nested objects', (t) => {
  t.deepEqual(parseJsonStream('{"a":"}{\\"","b":{"c":[1,{}]}}\n{"d":1}', 'x'), [{ a: '}{"', b: { c: [1, {}] } }, { d: 1 }]);
});

test('label selectors: equality, sets, existence, comparisons', (t) => {
  const labels = { app: 'web', tier: 'front', replicas: '3', 'example.com/team': 'core' };
  const yes = ['app=web', 'app==web', 'app!=db', 'tier in (front,back)', 'tier notin (back)', 'app', '!db', 'replicas>2', 'replicas<4', 'example.com/team=core', ' app = web , tier ', 'db!=x', 'db notin (x)', ''];
  const no = ['app=db', 'app!=web', 'tier in (back)', 'tier notin (front)', 'db', '!app', 'replicas>3', 'app>1', 'db in (x)', 'app=web,db'];
  for (const s of yes) t.true(parseLabelSelector(s).matches(labels), s);
  for (const s of no) t.false(parseLabelSelector(s).matches(labels), s);
  t.true(parseLabelSelector('app=').matches({ app: '' }));
});

test('invalid label selectors are rejected', (t) => {
  for (const s of ['app in', 'app in (a', '=x', 'app=web,', 'app=a b', 'app=-bad', 'a b', 'bad key!=x', 'x>y', '-app', 'app=web)', `${'k'.repeat(64)}=v`, 'Bad_Prefix/x=y']) {
    t.throws(() => parseLabelSelector(s), { instanceOf: FilterError }, s);
  }
});
