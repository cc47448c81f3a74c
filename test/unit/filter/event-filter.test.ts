// test/unit/filter/event-filter.test.ts
// Semantics of every Filter field, allow/deny combination, and rejection of invalid or unsupported filters.

import test from 'ava';
import fc from 'fast-check';
import { FilterError } from '../../../receiver/src/errors.js';
import { compileFilter, compileFilterLists } from '../../../receiver/src/filter/event-filter.js';
import type { ExecscopeEvent } from '../../../receiver/src/model/events.js';
import type { FilterMsg } from '../../../receiver/src/proto/messages.js';
import { samplePod, sampleExec, sampleExit, sampleParent, sampleProcess } from '../../helpers/sample-events.js';
import { event as arbitraryEvent, hostileString } from '../encode/arbitrary-events.js';

const host = sampleExec();
const xwing = sampleExec({ process: sampleProcess({ pid: 100, binary: '/usr/bin/curl', arguments: 'https://x', pod: samplePod(), docker: 'ae7a1981e064c217035e0b23979c8de' }) });
const kubeSystem = sampleExec({ process: sampleProcess({ pod: samplePod({ namespace: 'kube-system', name: 'coredns-5d78c9869d-abcde', podLabels: { 'k8s-app': 'kube-dns', tier: 'control' } }) }) });
const rateLimit: ExecscopeEvent = { kind: 'rate_limit_info', numberOfDroppedProcessEvents: 1, nodeName: 'n', time: [0, 0] };

function matches(filter: FilterMsg, event: ExecscopeEvent): boolean {
  return compileFilter(filter)(event);
}

test('empty filter matches everything, even rate_limit_info', (t) => {
  for (const e of [host, xwing, sampleExit(), rateLimit]) t.true(matches({}, e));
});

test('binary_regex: unanchored RE2, OR across the list', (t) => {
  t.true(matches({ binary_regex: ['curl'] }, host));
  t.true(matches({ binary_regex: ['^/usr/bin/curl$'] }, host));
  t.false(matches({ binary_regex: ['^curl'] }, host));
  t.true(matches({ binary_regex: ['^wget$', '(?:^|/)curl$'] }, host));
  t.false(matches({ binary_regex: ['bash'] }, host));
  t.false(matches({ binary_regex: ['.*'] }, rateLimit));
});

test('namespace: exact, "" for host processes', (t) => {
  t.true(matches({ namespace: ['default'] }, xwing));
  t.false(matches({ namespace: ['defaul'] }, xwing));
  t.false(matches({ namespace: ['default'] }, host));
  t.true(matches({ namespace: [''] }, host));
  t.false(matches({ namespace: [''] }, xwing));
  t.true(matches({ namespace: ['kube-system', ''] }, host));
  t.true(matches({ namespace: ['kube-system', ''] }, kubeSystem));
});

test('namespace_regex and pod_regex: no pod never matches', (t) => {
  t.true(matches({ namespace_regex: ['^kube-'] }, kubeSystem));
  t.false(matches({ namespace_regex: ['^kube-'] }, xwing));
  t.false(matches({ namespace_regex: ['.*'] }, host));
  t.true(matches({ pod_regex: ['^coredns-'] }, kubeSystem));
  t.true(matches({ pod_regex: ['xw'] }, xwing));
  t.false(matches({ pod_regex: ['.*'] }, host));
});

test('health_check: the process or its parent may be an exec probe', (t) => {
  const probePod = samplePod({ container: { id: 'c', name: 'n', maybeExecProbe: true } });
  const probe = sampleExec({ process: sampleProcess({ pod: probePod }) });
  const probeParent = sampleExec({ process: sampleProcess({ pod: samplePod() }), parent: sampleParent({ pod: probePod }) });
  t.true(matches({ health_check: { value: true } }, probe));
  t.true(matches({ health_check: { value: true } }, probeParent));
  t.false(matches({ health_check: { value: true } }, xwing));
  t.false(matches({ health_check: {} }, probe));
  t.true(matches({ health_check: { value: false } }, host));
  t.false(matches({ health_check: { value: false } }, probeParent));
});

test('pid', (t) => {
  t.true(matches({ pid: [100] }, xwing));
  t.true(matches({ pid: [1, 100] }, xwing));
  t.false(matches({ pid: [4242] }, xwing));
});

test('pid_set: the pid and every descendant learned from parent pids', (t) => {
  const f = compileFilter({ pid_set: [10] });
  const exec = (pid: number, ppid: number): ExecscopeEvent => sampleExec({ process: sampleProcess({ pid }), parent: sampleParent({ pid: ppid }) });
  t.true(f(exec(10, 1)));
  t.true(f(exec(11, 10)));
  t.true(f(exec(12, 11)), 'grandchild through the learned child');
  t.false(f(exec(13, 99)));
  t.true(f(sampleExit({ process: sampleProcess({ pid: 12 }) })));
  t.false(f(rateLimit));
  // A fresh compile starts with no learned children.
  t.false(compileFilter({ pid_set: [10] })(exec(12, 11)));
});

test('event_set by name and by number', (t) => {
  t.true(matches({ event_set: ['PROCESS_EXEC'] }, host));
  t.false(matches({ event_set: ['PROCESS_EXIT'] }, host));
  t.true(matches({ event_set: ['PROCESS_EXIT', 'PROCESS_KPROBE'] }, sampleExit()));
  t.true(matches({ event_set: [5] }, sampleExit()));
  t.true(matches({ event_set: ['RATE_LIMIT_INFO'] }, rateLimit));
  t.throws(() => compileFilter({ event_set: ['PROCESS_EXECUTE'] }), { instanceOf: FilterError, message: /unknown event type "PROCESS_EXECUTE"/ });
});

test('arguments_regex, parent_binary_regex, parent_arguments_regex', (t) => {
  t.true(matches({ arguments_regex: ['ebpf\\.io'] }, host));
  t.false(matches({ arguments_regex: ['^-c'] }, host));
  t.true(matches({ parent_binary_regex: ['/bash$'] }, host));
  t.true(matches({ parent_arguments_regex: ['^-c "curl'] }, host));
  const orphan = sampleExec({ parent: undefined as never });
  t.false(matches({ parent_binary_regex: ['.*'] }, orphan));
  t.false(matches({ parent_arguments_regex: [''] }, orphan));
});

test('labels: label selectors on pod labels, never on host processes', (t) => {
  t.true(matches({ labels: ['app.kubernetes.io/name=xwing'] }, xwing));
  t.true(matches({ labels: ['class in (xwing, tiefighter),org!=empire'] }, xwing));
  t.false(matches({ labels: ['org=empire'] }, xwing));
  t.true(matches({ labels: ['org=empire', 'org=alliance'] }, xwing), 'OR across selectors');
  t.true(matches({ labels: ['!canary'] }, xwing));
  t.false(matches({ labels: ['!canary'] }, host));
  t.false(matches({ labels: [''] }, host));
  t.true(matches({ labels: [''] }, xwing), 'the empty selector selects every pod');
  t.throws(() => compileFilter({ labels: ['a in (b'] }), { instanceOf: FilterError, message: /invalid label selector "a in \(b"/ });
});

test('container_id, container_name_regex and in_init_tree', (t) => {
  t.true(matches({ container_id: ['^ae7a19'] }, xwing));
  t.false(matches({ container_id: ['^ae7a19'] }, host));
  t.true(matches({ container_name_regex: ['^space'] }, xwing));
  t.false(matches({ container_name_regex: ['.*'] }, host));
  t.true(matches({ in_init_tree: { value: false } }, host));
  t.false(matches({ in_init_tree: { value: true } }, host));
  const init = sampleExec({ process: sampleProcess({ inInitTree: true }) });
  t.true(matches({ in_init_tree: { value: true } }, init));
  const { inInitTree: _x, ...rest } = sampleProcess();
  t.true(matches({ in_init_tree: { value: false } }, sampleExec({ process: rest as typeof init.process })), 'missing counts as false');
});

test('ancestor_binary_regex looks at every ancestor', (t) => {
  const withAncestors = sampleExec({ ancestors: [sampleParent({ binary: '/usr/bin/containerd-shim' }), sampleParent({ binary: '/sbin/init' })] });
  t.true(matches({ ancestor_binary_regex: ['init$'] }, withAncestors));
  t.false(matches({ ancestor_binary_regex: ['sshd'] }, withAncestors));
  t.false(matches({ ancestor_binary_regex: ['.*'] }, host));
});

test('policy_names never match exec or exit', (t) => {
  t.false(matches({ policy_names: ['any'] }, host));
  t.false(matches({ policy_names: ['any'] }, sampleExit()));
});

test('fields of one filter are ANDed', (t) => {
  t.true(matches({ binary_regex: ['curl'], namespace: ['default'], pid: [100] }, xwing));
  t.false(matches({ binary_regex: ['curl'], namespace: ['default'], pid: [101] }, xwing));
  t.false(matches({ binary_regex: ['curl'], namespace: ['kube-system'] }, xwing));
});

test('allow: any filter; deny: none; deny beats allow', (t) => {
  const pass = compileFilterLists([{ namespace: ['default'] }, { namespace: [''] }], [{ binary_regex: ['curl'], namespace: [''] }]);
  t.true(pass(xwing));
  t.false(pass(host), 'allowed as a host process, then denied');
  t.false(pass(kubeSystem));
  t.true(pass(sampleExec({ process: sampleProcess({ binary: '/bin/ls' }) })));
  const onlyDeny = compileFilterLists([], [{ namespace: ['kube-system'] }]);
  t.true(onlyDeny(host));
  t.false(onlyDeny(kubeSystem));
  t.true(compileFilterLists([], [])(rateLimit));
});

test('invalid regexes, RE2-only syntax and unsupported fields are rejected with a message', (t) => {
  t.throws(() => compileFilter({ binary_regex: ['(?=curl)'] }), { instanceOf: FilterError, message: /binary_regex "\(\?=curl\)": lookahead and lookbehind assertions are not supported by RE2/ });
  t.throws(() => compileFilter({ arguments_regex: ['(a)\\1'] }), { instanceOf: FilterError, message: /backreferences .* not supported by RE2/ });
  t.throws(() => compileFilter({ pod_regex: ['(?<!x)y'] }), { instanceOf: FilterError, message: /lookahead and lookbehind/ });
  t.throws(() => compileFilter({ namespace_regex: ['['] }), { instanceOf: FilterError, message: /namespace_regex "\[": .*missing closing \]/ });
  t.throws(() => compileFilter({ container_id: ['a{1001}'] }), { instanceOf: FilterError, message: /invalid repeat count/ });
  t.throws(() => compileFilter({ cel_expression: ['true'] }), { instanceOf: FilterError, message: /cel_expression filters are not supported/ });
  t.throws(() => compileFilter({ capabilities: { effective: { any: ['CAP_SYS_ADMIN'] } } }), { instanceOf: FilterError, message: /capabilities/ });
  t.throws(() => compileFilterLists([{}], [{}, { parent_binary_regex: ['('] }]), { instanceOf: FilterError, message: /^deny_list\[1\]: invalid parent_binary_regex/ });
});

test('RE2 syntax that JavaScript lacks works: (?P<name>), POSIX classes, \\pL, \\z, (?i)', (t) => {
  t.true(matches({ binary_regex: ['(?P<dir>/usr/bin/)curl'] }, host));
  t.true(matches({ binary_regex: ['^[[:punct:]][[:alpha:]]+/'] }, host));
  t.true(matches({ binary_regex: ['\\pL+\\z'] }, host));
  t.true(matches({ binary_regex: ['(?i)CURL'] }, host));
  t.true(matches({ binary_regex: ['\\Q/usr/bin/\\E'] }, host));
});

test('catastrophic patterns run in linear time', (t) => {
  const e = sampleExec({ process: sampleProcess({ arguments: `${'a'.repeat(20_000)}!` }) });
  const start = performance.now();
  t.false(matches({ arguments_regex: ['^(a+)+$'] }, e));
  t.true(performance.now() - start < 2000);
});

test('property: compiling arbitrary regexes either works or throws FilterError; matching never throws', (t) => {
  fc.assert(
    fc.property(fc.array(hostileString(8), { maxLength: 3 }), fc.array(hostileString(8), { maxLength: 2 }), arbitraryEvent, (patterns, labels, e) => {
      let predicate;
      try {
        predicate = compileFilter({ binary_regex: patterns, arguments_regex: patterns, pod_regex: patterns, labels });
      } catch (error: unknown) {
        return error instanceof FilterError;
      }
      predicate(e);
      return true;
    }),
    { numRuns: 400 },
  );
  t.pass();
});

test('property: a filter and its deny counterpart partition events', (t) => {
  fc.assert(
    fc.property(fc.constantFrom<FilterMsg>({ binary_regex: ['a'] }, { namespace: [''] }, { pid: [1, 2, 3] }, { event_set: ['PROCESS_EXIT'] }, { labels: ['x'] }, { in_init_tree: { value: true } }), arbitraryEvent, (f, e) => {
      return compileFilterLists([f], [])(e) === !compileFilterLists([], [f])(e);
    }),
    { numRuns: 300 },
  );
  t.pass();
});
