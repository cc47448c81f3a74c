// test/unit/filter/field-filter.test.ts
// Field filters (include/exclude, event_set, invert) and redaction filters.

import test from 'ava';
import fc from 'fast-check';
import { encodeResponseJson } from '../../../receiver/src/encode/json-encoder.js';
import { FilterError } from '../../../receiver/src/errors.js';
import { FieldFilterChain, parseFieldFilterList } from '../../../receiver/src/filter/field-filter.js';
import { Redactor, REDACTION_STRING } from '../../../receiver/src/filter/redaction.js';
import type { ExecscopeEvent } from '../../../receiver/src/model/events.js';
import type { FieldFilterMsg } from '../../../receiver/src/proto/messages.js';
import { toProtoResponse } from '../../../receiver/src/proto/to-proto.js';
import { samplePod, sampleExec, sampleExit, sampleProcess } from '../../helpers/sample-events.js';
import { event as arbitraryEvent, hostileString } from '../encode/arbitrary-events.js';

function filtered(filters: FieldFilterMsg[], event: ExecscopeEvent): Record<string, unknown> {
  return JSON.parse(encodeResponseJson(FieldFilterChain.compile(filters).apply(toProtoResponse(event)))) as Record<string, unknown>;
}

const podExec = sampleExec({ process: sampleProcess({ pod: samplePod() }) });

test('INCLUDE keeps only the listed paths of the event message; node_name and time stay', (t) => {
  const out = filtered([{ fields: { paths: ['process.binary', 'process.pod.name', 'parent.exec_id'] } }], podExec);
  t.deepEqual(out, {
    process_exec: { process: { binary: '/usr/bin/curl', pod: { name: 'xwing' } }, parent: { exec_id: podExec.parent?.execId } },
    node_name: 'test-node',
    time: '2023-11-14T22:13:20.123456789Z',
  });
});

test('EXCLUDE removes the listed paths, whole sub-messages included', (t) => {
  const out = filtered([{ fields: { paths: ['parent', 'process.pod.container', 'process.pid'] }, action: 'EXCLUDE' }], podExec) as { process_exec: Record<string, Record<string, unknown>> };
  t.false('parent' in out.process_exec);
  t.false('pid' in (out.process_exec['process'] ?? {}));
  t.false('container' in ((out.process_exec['process'] ?? {})['pod'] as object));
  t.is((out.process_exec['process'] ?? {})['binary'], '/usr/bin/curl');
});

test('lowerCamelCase paths and map keys', (t) => {
  const out = filtered([{ fields: { paths: ['process.execId', 'process.pod.podLabels.class'] } }], podExec) as { process_exec: { process: Record<string, unknown> } };
  t.deepEqual(out.process_exec.process, { exec_id: podExec.process.execId, pod: { pod_labels: { class: 'xwing' } } });
});

test('event_set restricts a filter; invert_event_set applies it to the other types', (t) => {
  const onlyExec: FieldFilterMsg = { event_set: ['PROCESS_EXEC'], fields: { paths: ['process.binary'] } };
  t.deepEqual((filtered([onlyExec], podExec)['process_exec'] as object), { process: { binary: '/usr/bin/curl' } });
  t.true('parent' in (filtered([onlyExec], sampleExit())['process_exit'] as object), 'exit untouched');
  // Tetragon's Helm example: keep only ids on everything but exec.
  const helm = parseFieldFilterList('{"fields":"process.exec_id,process.parent_exec_id","event_set":["PROCESS_EXEC"],"invert_event_set":true,"action":"INCLUDE"}', '--field-filters');
  t.deepEqual(filtered(helm, sampleExit())['process_exit'], { process: { exec_id: sampleExit().process.execId, parent_exec_id: sampleExit().process.parentExecId } });
  t.true('parent' in (filtered(helm, podExec)['process_exec'] as object), 'exec untouched');
  // With an empty event_set the filter applies to every type even when inverted (Tetragon's code).
  t.deepEqual(filtered([{ invert_event_set: { value: true }, fields: { paths: ['signal'] } }], sampleExit({ signal: 'SIGKILL' }))['process_exit'], { signal: 'SIGKILL' });
});

test('filters apply in order; empty paths leave the event whole', (t) => {
  const out = filtered([{ fields: { paths: ['process', 'parent.binary'] } }, { fields: { paths: ['process.pod'] }, action: 'EXCLUDE' }], podExec) as { process_exec: { process: Record<string, unknown>; parent: unknown } };
  t.false('pod' in out.process_exec.process);
  t.deepEqual(out.process_exec.parent, { binary: '/bin/bash' });
  t.deepEqual(filtered([{ fields: { paths: [] } }], podExec), JSON.parse(encodeResponseJson(toProtoResponse(podExec))) as object);
  t.deepEqual(filtered([{ action: 'EXCLUDE' }], podExec), JSON.parse(encodeResponseJson(toProtoResponse(podExec))) as object);
});

test('ancestors: a path applies to every element', (t) => {
  const e = sampleExec({ ancestors: [sampleProcess({ pid: 1 }), sampleProcess({ pid: 2 })] });
  t.deepEqual(filtered([{ fields: { paths: ['ancestors.pid'] } }], e)['process_exec'], { ancestors: [{ pid: 1 }, { pid: 2 }] });
});

test('unknown paths and actions are rejected; Tetragon-only fields are accepted', (t) => {
  t.throws(() => FieldFilterChain.compile([{ fields: { paths: ['process.binari'] } }]), { instanceOf: FilterError, message: /field_filters\[0\]: unknown field path "process.binari"/ });
  t.throws(() => FieldFilterChain.compile([{ fields: { paths: ['process.pid.value'] } }]), { instanceOf: FilterError });
  t.throws(() => FieldFilterChain.compile([{ action: 'DROP' }]), { instanceOf: FilterError, message: /invalid field filter action/ });
  t.notThrows(() => FieldFilterChain.compile([{ fields: { paths: ['process.cap', 'parent.ns.pid'] } }]));
  t.notThrows(() => FieldFilterChain.compile([{ event_set: ['PROCESS_KPROBE'], fields: { paths: ['function_name'] } }]), 'kprobe-only filters are not checked');
  t.throws(() => parseFieldFilterList('{"fields":["process.binary"]}', '--field-filters'), { instanceOf: FilterError, message: /^--field-filters, filter 1: fields: expected a comma-separated list/ });
  t.throws(() => parseFieldFilterList('{"field":"process.binary"}', '--field-filters'), { instanceOf: FilterError, message: /unknown field in FieldFilter/ });
});

test('redaction: capture groups become *****, only for matching binaries', (t) => {
  const r = Redactor.parse('{"binary_regex":["(?:^|/)mysql$"],"redact":["-p(?:\\\\s+|=)(\\\\S*)"]}');
  t.is(r.redactArguments('/usr/bin/mysql', '-u root -p hunter2 -h db -p=abc'), `-u root -p ${REDACTION_STRING} -h db -p=${REDACTION_STRING}`);
  t.is(r.redactArguments('/usr/bin/psql', '-p hunter2'), '-p hunter2');
});

test('redaction: no binary_regex means every binary; several groups; nested groups once; no group redacts nothing', (t) => {
  const r = Redactor.fromMessages([{ redact: ['--(user|password)=(\\S+)', '((t)oken)=\\S+', 'secret'] }]);
  t.is(r.redactArguments('/x', '--password=p --user=u token=abc secret'), `--${REDACTION_STRING}=${REDACTION_STRING} --${REDACTION_STRING}=${REDACTION_STRING} ${REDACTION_STRING}=abc secret`);
  t.true(r.redactArguments('/x', '').length === 0);
  t.true(Redactor.parse('').empty);
});

test('redaction of environment variables as KEY=VALUE', (t) => {
  const r = Redactor.fromMessages([{ redact: ['^AWS_SECRET_ACCESS_KEY=(.*)$', 'token=(\\w+)'] }]);
  const out = r.redact('/bin/sh', 'x token=abc', [{ key: 'AWS_SECRET_ACCESS_KEY', value: 's3cr3t' }, { key: 'HOME', value: '/root' }]);
  t.is(out.arguments, `x token=${REDACTION_STRING}`);
  t.deepEqual(out.environmentVariables, [{ key: 'AWS_SECRET_ACCESS_KEY', value: REDACTION_STRING }, { key: 'HOME', value: '/root' }]);
});

test('redaction: bad filters are rejected', (t) => {
  t.throws(() => Redactor.parse('{"redact":["(?=x)"]}'), { instanceOf: FilterError, message: /redaction filter 1: invalid redact regex/ });
  t.throws(() => Redactor.parse('{"redact":"x"}'), { instanceOf: FilterError, message: /redact: expected a list/ });
  t.throws(() => Redactor.parse('{"binary":["x"]}'), { instanceOf: FilterError, message: /unknown field/ });
});

test('property: field filters never throw on arbitrary events and keep node_name/time', (t) => {
  const chain = FieldFilterChain.compile([{ fields: { paths: ['process.binary', 'parent'] } }, { fields: { paths: ['parent.pod'] }, action: 'EXCLUDE' }]);
  fc.assert(
    fc.property(arbitraryEvent, (e) => {
      const before = toProtoResponse(e);
      const after = chain.apply(toProtoResponse(e));
      return after.time !== undefined && after.node_name === before.node_name;
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('property: redaction never throws and never touches strings without a match', (t) => {
  fc.assert(
    fc.property(hostileString(20), hostileString(6), (args, pattern) => {
      let r: Redactor;
      try {
        r = Redactor.fromMessages([{ redact: [pattern] }]);
      } catch (error: unknown) {
        return error instanceof FilterError;
      }
      const out = r.redactArguments('/bin/x', args);
      return out === args || out.includes(REDACTION_STRING) || out.length < args.length;
    }),
    { numRuns: 400 },
  );
  t.pass();
});
