// test/native/layout.test.ts
// The TypeScript mirror of bpf/execscope_event.h must match what the C compiler laid out.

import test from 'ava';
import { loadNativeBinding } from '../../receiver/src/native/binding.js';
import { ARGS_MAX, ENV_MODE, EXEC, EXEC_FLAG, EXIT, FILENAME_MAX, FORK, HEADER, KIND, RECORD_VERSION, STAT } from '../../receiver/src/wire/layout.js';

const binding = loadNativeBinding();
const layout = binding.layout();

function checkStruct(t: import('ava').ExecutionContext, name: string, mirror: Readonly<Record<string, number>>): void {
  t.is(layout[`sizeof ${name}`], mirror['SIZE'], `sizeof ${name}`);
  for (const [field, offset] of Object.entries(mirror)) {
    if (field === 'SIZE') continue;
    t.is(layout[`${name}.${field}`], offset, `${name}.${field}`);
  }
  // Every C field must be mirrored too (a new field in the header fails here).
  const cFields = Object.keys(layout).filter((k) => k.startsWith(`${name}.`)).map((k) => k.slice(name.length + 1));
  const mirrored = new Set(Object.keys(mirror));
  const header = new Set(['hdr']);
  t.deepEqual(cFields.filter((f) => !mirrored.has(f) && !header.has(f)), [], `${name} fields missing from layout.ts`);
}

test('record header layout matches the C header', (t) => checkStruct(t, 'es_header', HEADER));
test('exec record layout matches the C header', (t) => checkStruct(t, 'es_exec', EXEC));
test('fork record layout matches the C header', (t) => checkStruct(t, 'es_fork', FORK));
test('exit record layout matches the C header', (t) => checkStruct(t, 'es_exit', EXIT));

test('constants match the C header', (t) => {
  const c = layout.constants;
  t.is(c['ES_RECORD_VERSION'], RECORD_VERSION);
  t.is(c['ES_KIND_EXEC'], KIND.EXEC);
  t.is(c['ES_KIND_FORK'], KIND.FORK);
  t.is(c['ES_KIND_EXIT'], KIND.EXIT);
  t.is(c['ES_ARGS_MAX'], ARGS_MAX);
  t.is(c['ES_FILENAME_MAX'], FILENAME_MAX);
  for (const [name, bit] of Object.entries(EXEC_FLAG)) t.is(c[`ES_EXEC_${name}`], bit, `ES_EXEC_${name}`);
  t.is(c['ES_ENV_NONE'], ENV_MODE.NONE);
  t.is(c['ES_ENV_TRACE_CONTEXT'], ENV_MODE.TRACE_CONTEXT);
  t.is(c['ES_ENV_ALL'], ENV_MODE.ALL);
  for (const [name, slot] of Object.entries(STAT)) t.is(c[`ES_STAT_${name}`], slot, `ES_STAT_${name}`);
});

test('the clocks move forward together', (t) => {
  const a = binding.clocks();
  const b = binding.clocks();
  t.true(b.boottimeNs >= a.boottimeNs);
  t.true(a.realtimeNs > a.boottimeNs);
});
