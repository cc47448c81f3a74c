// test/unit/encode/json-encoder.test.ts
// Golden lines and round trips for the Tetragon-compatible JSON encoder and decoder.

import test from 'ava';
import fc from 'fast-check';
import { decodeEventJson, encodeEventJson } from '../../../receiver/src/encode/json-encoder.js';
import type { ExecscopeEvent } from '../../../receiver/src/model/events.js';
import { hrTimeToRfc3339 } from '../../../receiver/src/model/hr-time.js';
import type { Process } from '../../../receiver/src/model/process.js';
import { samplePod, sampleExec, sampleExit, sampleParent, sampleProcess } from '../../helpers/sample-events.js';
import { event as arbitraryEvent } from './arbitrary-events.js';

const B64 = (s: string): string => Buffer.from(s).toString('base64');
const EXEC_ID = B64('test-node:13548674321373:4242');
const PARENT_EXEC_ID = B64('test-node:13000000000000:4200');
const GRANDPARENT_EXEC_ID = B64('test-node:1:0');

const PROCESS_JSON =
  `{"exec_id":"${EXEC_ID}","pid":4242,"uid":0,"cwd":"/","binary":"/usr/bin/curl",` +
  `"arguments":"https://ebpf.io/applications/#tetragon","flags":"execve rootcwd clone",` +
  `"start_time":"2023-11-14T22:13:20.123456789Z","auid":4294967295,"parent_exec_id":"${PARENT_EXEC_ID}",` +
  `"refcnt":1,"tid":4242,"in_init_tree":false}`;
const PARENT_JSON =
  `{"exec_id":"${PARENT_EXEC_ID}","pid":4200,"uid":0,"cwd":"/","binary":"/bin/bash",` +
  `"arguments":"-c \\"curl https://ebpf.io/applications/#tetragon\\"","flags":"execve rootcwd clone",` +
  `"start_time":"2023-11-14T22:13:20.123456789Z","auid":4294967295,"parent_exec_id":"${GRANDPARENT_EXEC_ID}",` +
  `"refcnt":1,"tid":4200,"in_init_tree":false}`;

test('host exec: proto names, declaration order, zero scalars omitted, wrappers present', (t) => {
  t.is(
    encodeEventJson(sampleExec()),
    `{"process_exec":{"process":${PROCESS_JSON},"parent":${PARENT_JSON}},"node_name":"test-node","time":"2023-11-14T22:13:20.123456789Z"}`,
  );
});

test('pod exec: pod, container, image, sorted labels, workload_kind, docker', (t) => {
  const process = sampleProcess({ pod: samplePod({ podLabels: { 'z': '1', 'app.kubernetes.io/name': 'xwing', 'B': '2' } }), docker: 'ae7a1981e064c217035e0b23979c8de' });
  const line = encodeEventJson(sampleExec({ process, parent: undefined as never }));
  t.is(
    line,
    `{"process_exec":{"process":{"exec_id":"${EXEC_ID}","pid":4242,"uid":0,"cwd":"/","binary":"/usr/bin/curl",` +
      `"arguments":"https://ebpf.io/applications/#tetragon","flags":"execve rootcwd clone",` +
      `"start_time":"2023-11-14T22:13:20.123456789Z","auid":4294967295,` +
      `"pod":{"namespace":"default","name":"xwing","uid":"8e9f3b4a-1111-2222-3333-444455556666",` +
      `"container":{"id":"containerd://ae7a1981e064c217035e0b23979c8defd51c850d1af26fbcf148187e5b0da61c","name":"spaceship",` +
      `"image":{"id":"docker.io/tgraf/netperf@sha256:8e86f744bfea165fd4ce68caa05abc96500f40130b857773186401926af7e9e6","name":"docker.io/tgraf/netperf:latest"},` +
      `"start_time":"2023-11-14T21:56:40Z","pid":49},` +
      `"pod_labels":{"B":"2","app.kubernetes.io/name":"xwing","z":"1"},"workload":"xwing","workload_kind":"Pod"},` +
      `"docker":"ae7a1981e064c217035e0b23979c8de","parent_exec_id":"${PARENT_EXEC_ID}","refcnt":1,"tid":4242,"in_init_tree":false}},` +
      `"node_name":"test-node","time":"2023-11-14T22:13:20.123456789Z"}`,
  );
});

test('container pid 0, maybe_exec_probe, security_context and annotations', (t) => {
  const pod = samplePod({
    podAnnotations: { b: 'x', a: 'y' },
    container: { id: 'c', name: 'n', pid: 0, maybeExecProbe: true, securityContext: { privileged: false } },
  });
  const line = encodeEventJson(sampleExec({ process: sampleProcess({ pod }) }));
  t.true(line.includes(`"container":{"id":"c","name":"n","pid":0,"maybe_exec_probe":true,"security_context":{}}`), line);
  t.true(line.includes(`"workload_kind":"Pod","pod_annotations":{"a":"y","b":"x"}}`), line);
});

test('map keys are sorted by code point, as Go sorts bytes', (t) => {
  const pod = samplePod({ podLabels: { '\u{1F600}': 'astral', '\uFFFD': 'bmp', 'a': 'ascii' } });
  const line = encodeEventJson(sampleExec({ process: sampleProcess({ pod }) }));
  t.true(line.includes(`"pod_labels":{"a":"ascii","\uFFFD":"bmp","\u{1F600}":"astral"}`), line);
});

test('exit: clean exit has neither status nor signal; status and signal when set', (t) => {
  const clean = JSON.parse(encodeEventJson(sampleExit())) as { process_exit: Record<string, unknown> };
  t.deepEqual(Object.keys(clean.process_exit), ['process', 'parent', 'time']);
  t.is(clean.process_exit['time'], '2023-11-14T22:13:22.000000005Z');
  const line = encodeEventJson(sampleExit({ status: 60 }));
  t.regex(line, /"parent":\{.*\},"status":60,"time":"2023-11-14T22:13:22\.000000005Z"\},"node_name":"test-node","time":"2023-11-14T22:13:22\.000000005Z"\}$/);
  t.regex(encodeEventJson(sampleExit({ signal: 'SIGKILL' })), /\},"signal":"SIGKILL","time":/);
});

test('timestamps use 0, 3, 6 or 9 fraction digits', (t) => {
  const at = (nsec: number): string => (JSON.parse(encodeEventJson(sampleExec({ time: [1_696_629_837, nsec] }))) as { time: string }).time;
  t.is(at(0), '2023-10-06T22:03:57Z');
  t.is(at(700_000_000), '2023-10-06T22:03:57.700Z');
  t.is(at(700_327_000), '2023-10-06T22:03:57.700327Z');
  t.is(at(700_327_580), '2023-10-06T22:03:57.700327580Z');
  t.is((JSON.parse(encodeEventJson(sampleExec({ time: [0, 0] }))) as { time: string }).time, '1970-01-01T00:00:00Z');
});

test('wrapper fields are present when zero; empty strings, zero refcnt and empty lists are not', (t) => {
  const process = sampleProcess({ pid: 0, uid: 0, tid: 0, auid: 0, refcnt: 0, cwd: '', arguments: '', flags: '', execId: '', parentExecId: '', environmentVariables: [] });
  const line = encodeEventJson(sampleExec({ process, parent: undefined as never, nodeName: '' }));
  t.is(line, `{"process_exec":{"process":{"pid":0,"uid":0,"binary":"/usr/bin/curl","start_time":"2023-11-14T22:13:20.123456789Z","auid":0,"tid":0,"in_init_tree":false}},"time":"2023-11-14T22:13:20.123456789Z"}`);
  const { inInitTree: _drop, ...noInitTree } = sampleProcess();
  t.false(encodeEventJson(sampleExec({ process: noInitTree as Process, parent: undefined as never })).includes('in_init_tree'));
});

test('environment variables render as Key/Value', (t) => {
  const process = sampleProcess({ environmentVariables: [{ key: 'A', value: '1' }, { key: 'EMPTY', value: '' }] });
  t.true(encodeEventJson(sampleExec({ process })).includes(`"in_init_tree":false,"environment_variables":[{"Key":"A","Value":"1"},{"Key":"EMPTY"}]}`));
});

test('internal-only model fields never appear', (t) => {
  const process = sampleProcess({ traceParent: '00-abc-def-01', traceState: 'x=y', cgroupPath: '/kubepods/x', containerId: 'abcdef', nspid: 7 });
  const line = encodeEventJson(sampleExec({ process }));
  for (const word of ['argv', 'ppid', 'nspid', 'ktime', 'cgroup', 'container_id', 'containerId', 'trace', '00-abc-def-01', '/kubepods/x']) {
    t.false(line.includes(word), word);
  }
});

test('rate_limit_info renders its uint64 as a string and comes first', (t) => {
  const event: ExecscopeEvent = { kind: 'rate_limit_info', numberOfDroppedProcessEvents: 12, nodeName: 'n1', time: [1_700_000_000, 0] };
  t.is(encodeEventJson(event), '{"rate_limit_info":{"number_of_dropped_process_events":"12"},"node_name":"n1","time":"2023-11-14T22:13:20Z"}');
});

test('string escaping: quotes, backslashes, control characters (protojson and JSON.stringify agree)', (t) => {
  const process = sampleProcess({ arguments: '-c "echo\t\\x" \x1b[31m\x00\u2028<&>' });
  const line = encodeEventJson(sampleExec({ process }));
  t.true(line.includes(String.raw`"arguments":"-c \"echo\t\\x\" \u001b[31m\u0000` + '\u2028<&>"'), line);
});

test('decode accepts snake_case and lowerCamelCase keys, ignores unknown keys', (t) => {
  const camel =
    '{"processExec":{"process":{"execId":"aWQ=","pid":7,"startTime":"2023-10-06T22:03:57.7Z","inInitTree":true,' +
    '"pod":{"namespace":"ns","name":"p","podLabels":{"a":"b"},"workloadKind":"Deployment","container":{"maybeExecProbe":true}},' +
    '"environmentVariables":[{"Key":"K","Value":"V"}],"cap":{"effective":["CAP_CHOWN"]}},"unknown":1},' +
    '"nodeName":"n","time":"2023-10-06T22:03:57.700327580+02:00","node_labels":{"x":"y"}}';
  const event = decodeEventJson(camel);
  if (event?.kind !== 'process_exec') return t.fail('not an exec');
  t.is(event.process.execId, 'aWQ=');
  t.is(event.process.pid, 7);
  t.deepEqual(event.process.startTime, [1_696_629_837, 700_000_000]);
  t.true(event.process.inInitTree);
  t.is(event.process.pod?.workloadKind, 'Deployment');
  t.true(event.process.pod?.container?.maybeExecProbe);
  t.deepEqual(event.process.environmentVariables, [{ key: 'K', value: 'V' }]);
  t.is(event.nodeName, 'n');
  t.deepEqual(event.time, [1_696_629_837 - 7200, 700_327_580]);
  t.is(event.parent, undefined);
});

test('decode: neutral defaults, ppid from the parent and ktime from exec_id', (t) => {
  const event = decodeEventJson(encodeEventJson(sampleExec()));
  if (event?.kind !== 'process_exec') return t.fail('not an exec');
  t.is(event.process.ppid, 4200);
  t.is(event.process.ktime, 13_548_674_321_373n);
  t.deepEqual(event.process.argv, []);
  t.is(event.process.cgroupPath, '');
  const sparse = decodeEventJson('{"process_exit":{"process":{"binary":"/bin/x"}}}');
  if (sparse?.kind !== 'process_exit') return t.fail('not an exit');
  t.is(sparse.process.pid, 0);
  t.is(sparse.status, 0);
  t.is(sparse.signal, '');
  t.deepEqual(sparse.time, [0, 0]);
  t.is(sparse.nodeName, '');
});

test('decode rejects what is not an exec, exit or rate_limit_info line', (t) => {
  for (const line of ['', 'not json', '[]', 'null', '{}', '{"process_kprobe":{"process":{}}}', '{"process_exec":{"process":{"pid":"x"}}}', '{"time":"yesterday","process_exec":{}}', '{"process_exec":{"process":{"pid":-1}}}']) {
    t.is(decodeEventJson(line), undefined, line);
  }
});

test('round trip of the samples is exact', (t) => {
  const rateLimit: ExecscopeEvent = { kind: 'rate_limit_info', numberOfDroppedProcessEvents: 3, nodeName: 'n', time: [5, 5] };
  for (const e of [sampleExec(), sampleExit({ signal: 'SIGTERM' }), sampleExec({ process: sampleProcess({ pod: samplePod() }), ancestors: [sampleParent()] }), rateLimit]) {
    const line = encodeEventJson(e);
    const back = decodeEventJson(line);
    t.not(back, undefined);
    if (back !== undefined) t.is(encodeEventJson(back), line);
  }
});

/** The part of a process Tetragon's JSON carries, with empty collections normalised away. */
function visibleProcess(p: Process): unknown {
  const pod = p.pod === undefined ? undefined : { ...p.pod, podAnnotations: Object.keys(p.pod.podAnnotations ?? {}).length > 0 ? p.pod.podAnnotations : undefined };
  return {
    execId: p.execId, pid: p.pid, uid: p.uid, cwd: p.cwd, binary: p.binary, arguments: p.arguments, flags: p.flags,
    startTime: p.startTime, auid: p.auid, pod, docker: p.docker, parentExecId: p.parentExecId, refcnt: p.refcnt,
    tid: p.tid, inInitTree: p.inInitTree, env: (p.environmentVariables ?? []).length > 0 ? p.environmentVariables : undefined,
  };
}

function visible(e: ExecscopeEvent): unknown {
  const base = { kind: e.kind, nodeName: e.nodeName, time: e.time };
  if (e.kind === 'rate_limit_info') return { ...base, n: e.numberOfDroppedProcessEvents };
  if (e.kind === 'loss_report') return { ...base, loss: [e.kernelRing, e.userSpace, e.unexplained, e.sinks] };
  const common = {
    ...base,
    process: visibleProcess(e.process),
    parent: e.parent === undefined ? undefined : visibleProcess(e.parent),
    ancestors: (e.ancestors ?? []).length > 0 ? e.ancestors?.map(visibleProcess) : undefined,
  };
  return e.kind === 'process_exit' ? { ...common, signal: e.signal, status: e.status, exitTime: e.exitTime } : common;
}

test('property: any event encodes to one JSON line that decodes back to the same Tetragon fields', (t) => {
  fc.assert(
    fc.property(arbitraryEvent, (e) => {
      const line = encodeEventJson(e);
      if (line.includes('\n')) return false;
      const back = decodeEventJson(line);
      if (back === undefined) return false;
      t.deepEqual(visible(back), visible(e));
      return encodeEventJson(back) === line;
    }),
    { numRuns: 300 },
  );
});

test('property: decoding arbitrary text never throws', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json()), (s) => {
      decodeEventJson(s);
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('property: timestamps format as the model formatter does, over years 1970-9999', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253_402_300_799 }), fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(1, 1_000, 1_000_000, 1_000_000_000), (sec, nsec, step) => {
      const n = nsec - (nsec % step);
      const line = encodeEventJson({ kind: 'rate_limit_info', numberOfDroppedProcessEvents: 0, nodeName: '', time: [sec, n] });
      return line === `{"rate_limit_info":{},"time":"${hrTimeToRfc3339([sec, n])}"}`;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
