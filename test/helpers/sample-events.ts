// test/helpers/sample-events.ts
// Builders for model events used by unit tests of encoders, filters and exporters.

import type { ProcessExecEvent, ProcessExitEvent } from '../../receiver/src/model/events.js';
import type { HrTime } from '../../receiver/src/model/hr-time.js';
import type { Pod } from '../../receiver/src/model/pod.js';
import type { Process } from '../../receiver/src/model/process.js';

const NODE = 'test-node';
const T0: HrTime = [1_700_000_000, 123_456_789];

function execIdOf(node: string, ktime: bigint, pid: number): string {
  return Buffer.from(`${node}:${ktime}:${pid}`).toString('base64');
}

export function sampleProcess(overrides: Partial<Process> = {}): Process {
  const pid = overrides.pid ?? 4242;
  const ktime = overrides.ktime ?? 13_548_674_321_373n;
  return {
    execId: execIdOf(NODE, ktime, pid),
    pid,
    uid: 0,
    cwd: '/',
    binary: '/usr/bin/curl',
    arguments: 'https://ebpf.io/applications/#tetragon',
    flags: 'execve rootcwd clone',
    startTime: T0,
    auid: 4294967295,
    docker: '',
    parentExecId: execIdOf(NODE, 13_000_000_000_000n, 4200),
    refcnt: 1,
    tid: pid,
    inInitTree: false,
    argv: ['curl', 'https://ebpf.io/applications/#tetragon'],
    ppid: 4200,
    nspid: pid,
    ktime,
    cgroupPath: '',
    containerId: '',
    ...overrides,
  };
}

export function sampleParent(overrides: Partial<Process> = {}): Process {
  return sampleProcess({
    pid: 4200,
    ktime: 13_000_000_000_000n,
    binary: '/bin/bash',
    arguments: '-c "curl https://ebpf.io/applications/#tetragon"',
    argv: ['bash', '-c', 'curl https://ebpf.io/applications/#tetragon'],
    ppid: 1,
    parentExecId: execIdOf(NODE, 1n, 0),
    ...overrides,
  });
}

export function samplePod(overrides: Partial<Pod> = {}): Pod {
  return {
    namespace: 'default',
    name: 'xwing',
    uid: '8e9f3b4a-1111-2222-3333-444455556666',
    container: {
      id: 'containerd://ae7a1981e064c217035e0b23979c8defd51c850d1af26fbcf148187e5b0da61c',
      name: 'spaceship',
      image: { id: 'docker.io/tgraf/netperf@sha256:8e86f744bfea165fd4ce68caa05abc96500f40130b857773186401926af7e9e6', name: 'docker.io/tgraf/netperf:latest' },
      startTime: [1_699_999_000, 0],
      pid: 49,
      maybeExecProbe: false,
    },
    podLabels: { 'app.kubernetes.io/name': 'xwing', 'class': 'xwing', 'org': 'alliance' },
    workload: 'xwing',
    workloadKind: 'Pod',
    ...overrides,
  };
}

export function sampleExec(overrides: Partial<ProcessExecEvent> = {}): ProcessExecEvent {
  const process = overrides.process ?? sampleProcess();
  return {
    kind: 'process_exec',
    process,
    parent: sampleParent(),
    nodeName: NODE,
    time: process.startTime,
    ...overrides,
  };
}

export function sampleExit(overrides: Partial<ProcessExitEvent> = {}): ProcessExitEvent {
  const exitTime: HrTime = [T0[0] + 2, 5];
  return {
    kind: 'process_exit',
    process: sampleProcess(),
    parent: sampleParent(),
    signal: '',
    status: 0,
    exitTime,
    nodeName: NODE,
    time: exitTime,
    ...overrides,
  };
}
