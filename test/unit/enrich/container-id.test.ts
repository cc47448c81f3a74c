// test/unit/enrich/container-id.test.ts
// Container ids from cgroup paths: Tetragon's vectors (spec §7.2) at full length, plus runtime/driver variants.

import test from 'ava';
import fc from 'fast-check';
import {
  containerIdFromCgroupPath,
  containerIdFromProcCgroup,
  dockerFieldOf,
} from '../../../receiver/src/enrich/container-id.js';

const ID_K8S_V1 = 'ae7a1981e064c217035e0b23979c8defd51c850d1af26fbcf148187e5b0da61c';
const ID_CRI = '5694f82f44168cc048e014ae14d1b0c8ef673bec49f329dc169911ea638f63c2';
const ID_DOCKER_SCOPE = 'ee40841f79d52f66f4958c8a484bd2dfb453228874dcca1a3f2ec6e8420ec87c';
const ID_DOCKER_V1 = '5aaf9eb7648eeb1459d86eaa0ace8bcfa93089642e5c3113a14250dae3238aaf';
// The table elides the middle of these; the first 31 characters and the tail come from it.
const ID_LIBPOD_USER = '6fb480da903b96185cd497db694641d0c9b1f5f0d3e4b0a7b8c2d1e9f746adea';
const ID_LIBPOD_MACHINE = '89e89703fbd1e88b72d279d951ce389a2b3c4d5e6f708192a3b4c5d6e7f80659';
const ID_LIBPOD_CGROUPFS = '01f3c60cfaadbb51e4d5947dd2ef048a1b2c3d4e5f60718293a4b5c6d7e03bf4';
const ID_KIND_NESTED = 'b0e6aa50e847c3d3b1880e307ec79961a2b3c4d5e6f708192a3b4c5d6e7cb655';
const ID_CGROUPFS_SYSTEMD = '0ca2b3cd20e5f55a2bbe8d4aa3f811c1a2b3c4d5e6f708192a3b4c5d6e7fc400';
const ID_ACTIONS = 'ec5fd62ba68d0b75a3cbdb7f7f78b5201a2b3c4d5e6f708192a3b4c5d6e72fdc';
const NODE_SCOPE = '1b33a2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80';
const KIND_NODE = 'c114a2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80';
const POD_UID = '26ab4c32-8d3a-4b1f-9c55-2f1e0a7b6d90';

/** [proc cgroup line, expected docker field] — spec §7.2's table, ids at full length. */
const TETRAGON_VECTORS: ReadonlyArray<readonly [string, string]> = [
  [`6:pids:/kubepods/besteffort/pod${POD_UID}/${ID_K8S_V1}`, 'ae7a1981e064c217035e0b23979c8de'],
  [
    `4:pids:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_UID.replaceAll('-', '_')}.slice/cri-containerd-${ID_CRI}.scope`,
    '5694f82f44168cc048e014ae14d1b0c',
  ],
  [
    `4:pids:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID.replaceAll('-', '_')}.slice/docker-${ID_CRI}.scope`,
    '5694f82f44168cc048e014ae14d1b0c',
  ],
  [`0::/system.slice/docker-${ID_DOCKER_SCOPE}.scope`, 'ee40841f79d52f66f4958c8a484bd2d'],
  [`0::/docker/${ID_DOCKER_V1}`, '5aaf9eb7648eeb1459d86eaa0ace8bc'],
  [`0::/${ID_DOCKER_V1}`, '5aaf9eb7648eeb1459d86eaa0ace8bc'],
  [
    `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID_LIBPOD_USER}.scope/container`,
    '6fb480da903b96185cd497db694641d',
  ],
  [`0::/machine.slice/libpod-${ID_LIBPOD_MACHINE}.scope/container`, '89e89703fbd1e88b72d279d951ce389'],
  [`0::/libpod_parent/libpod-${ID_LIBPOD_CGROUPFS}`, '01f3c60cfaadbb51e4d5947dd2ef048'],
  ['0::/libpod_parent/conmon', ''],
  [`0::/system.slice/docker-${NODE_SCOPE}.scope/init.scope`, ''],
  [`0::/system.slice/docker-${KIND_NODE}.scope/system.slice/kubelet.service`, ''],
  [
    `0::/system.slice/docker-${KIND_NODE}.scope/kubelet/kubepods/burstable/pod09a7c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d/${ID_KIND_NESTED}`,
    'b0e6aa50e847c3d3b1880e307ec7996',
  ],
  [
    `4:pids:/podruntime.slice/containerd.service/kubepods-burstable-pod2934e1f0_4a2b_4c3d_9e8f_0a1b2c3d4e5f.slice:cri-containerd:${ID_CGROUPFS_SYSTEMD}`,
    '0ca2b3cd20e5f55a2bbe8d4aa3f811c',
  ],
  [`11:pids:/actions_job/${ID_ACTIONS}`, 'ec5fd62ba68d0b75a3cbdb7f7f78b52'],
  ['', ''],
];

for (const [index, [line, docker]] of TETRAGON_VECTORS.entries()) {
  test(`Tetragon vector ${index + 1}: ${line.slice(0, 50) || '(empty)'}`, (t) => {
    const parsed = containerIdFromProcCgroup(line);
    t.is(dockerFieldOf(parsed.id), docker);
    if (docker !== '') {
      t.is(parsed.id.length, 64, 'the full id is kept');
      t.true(parsed.id.startsWith(docker));
      t.is(parsed.path, line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1));
    }
    // The sensor's form (path only) gives the same id.
    const path = line === '' ? '' : line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    t.is(containerIdFromCgroupPath(path), parsed.id);
  });
}

const ID = 'f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2';
const UID = '7d0c5d1e-9b7a-4c1f-8a51-3f9e2b6c4d10';
const UIDU = UID.replaceAll('-', '_');

/** Runtime × cgroup driver × cgroup version as kubelet, docker and podman lay them out. */
const RUNTIME_VARIANTS: ReadonlyArray<readonly [string, string]> = [
  // containerd
  ['containerd cgroupfs v1', `/kubepods/burstable/pod${UID}/${ID}`],
  ['containerd cgroupfs v1 guaranteed', `/kubepods/pod${UID}/${ID}`],
  ['containerd cgroupfs v2', `/kubepods/besteffort/pod${UID}/${ID}`],
  ['containerd systemd v2', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UIDU}.slice/cri-containerd-${ID}.scope`],
  ['containerd systemd v1 guaranteed', `/kubepods.slice/kubepods-pod${UIDU}.slice/cri-containerd-${ID}.scope`],
  ['containerd systemd cgroupfs-style', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UIDU}.slice:cri-containerd:${ID}`],
  // cri-o
  ['cri-o systemd', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UIDU}.slice/crio-${ID}.scope`],
  ['cri-o systemd inner container cgroup', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UIDU}.slice/crio-${ID}.scope/container`],
  ['cri-o cgroupfs', `/kubepods/besteffort/pod${UID}/crio-${ID}`],
  // docker
  ['docker cgroupfs v1', `/docker/${ID}`],
  ['docker systemd v2', `/system.slice/docker-${ID}.scope`],
  ['docker via kubelet systemd', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UIDU}.slice/docker-${ID}.scope`],
  ['docker via kubelet cgroupfs', `/kubepods/burstable/pod${UID}/${ID}`],
  // podman
  ['podman cgroupfs v1', `/libpod_parent/libpod-${ID}`],
  ['podman systemd v2 root', `/machine.slice/libpod-${ID}.scope/container`],
  ['podman systemd v2 rootless', `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`],
  ['podman systemd v1', `/machine.slice/libpod-${ID}.scope`],
  ['trailing slash', `/system.slice/docker-${ID}.scope/`],
];

for (const [name, path] of RUNTIME_VARIANTS) {
  test(`runtime variant: ${name}`, (t) => {
    t.is(containerIdFromCgroupPath(path), ID);
  });
}

const HOST_PATHS: ReadonlyArray<readonly [string, string]> = [
  ['root', '/'],
  ['empty', ''],
  ['user session', '/user.slice/user-1000.slice/session-3.scope'],
  ['system service', '/system.slice/containerd.service'],
  ['pod slice itself (pause-less)', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UIDU}.slice`],
  ['pod directory cgroupfs', `/kubepods/besteffort/pod${UID}`],
  ['qos class', '/kubepods/burstable'],
  ['cri-o conmon', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UIDU}.slice/crio-conmon-${ID}.scope`],
  ['podman conmon', `/machine.slice/libpod-conmon-${ID}.scope`],
  ['service in container scope', `/system.slice/docker-${ID}.scope/system.slice/containerd.service`],
  ['machine id style 32 hex bare', '/machine/0123456789abcdef0123456789abcdef'],
  ['short prefixed id', '/system.slice/docker-abc123.scope'],
  ['uppercase hex', `/docker/${ID.toUpperCase()}`],
  ['bare container child', '/container'],
];

for (const [name, path] of HOST_PATHS) {
  test(`host path: ${name}`, (t) => {
    t.is(containerIdFromCgroupPath(path), '');
  });
}

test('a prefixed id cut short by the kernel is still accepted from 31 characters', (t) => {
  t.is(containerIdFromCgroupPath(`/system.slice/docker-${ID.slice(0, 31)}`), ID.slice(0, 31));
  t.is(containerIdFromCgroupPath(`/system.slice/docker-${ID.slice(0, 30)}`), '');
});

test('a whole hybrid /proc/<pid>/cgroup: v1 memory first, then other v1, then v2', (t) => {
  const file = [
    '12:cpuset:/',
    `11:pids:/kubepods/besteffort/pod${UID}/${ID}`,
    `5:memory:/kubepods/besteffort/pod${UID}/${ID}`,
    '1:name=systemd:/system.slice/containerd.service',
    '0::/',
    '',
  ].join('\n');
  t.deepEqual(containerIdFromProcCgroup(file), { id: ID, path: `/kubepods/besteffort/pod${UID}/${ID}` });
});

test('v2 only host: the unified line gives the id', (t) => {
  const path = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UIDU}.slice/cri-containerd-${ID}.scope`;
  t.deepEqual(containerIdFromProcCgroup(`0::${path}\n`), { id: ID, path });
});

test('hybrid host whose v1 hierarchies hold no container but v2 does', (t) => {
  const v2 = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UIDU}.slice/cri-containerd-${ID}.scope`;
  const file = `5:memory:/\n3:cpu,cpuacct:/user.slice\n0::${v2}\n`;
  t.deepEqual(containerIdFromProcCgroup(file), { id: ID, path: v2 });
});

test('a host process keeps its v2 path with an empty id', (t) => {
  const file = '5:memory:/user.slice\n1:name=systemd:/user.slice/session-2.scope\n0::/user.slice/session-2.scope\n';
  t.deepEqual(containerIdFromProcCgroup(file), { id: '', path: '/user.slice/session-2.scope' });
});

test('v1-only host without id: the preferred controller path is kept', (t) => {
  const file = '3:pids:/user.slice\n5:memory:/system.slice/sshd.service\n';
  t.deepEqual(containerIdFromProcCgroup(file), { id: '', path: '/system.slice/sshd.service' });
  t.deepEqual(containerIdFromProcCgroup(file, 'pids'), { id: '', path: '/user.slice' });
});

test('garbage lines are ignored', (t) => {
  t.deepEqual(containerIdFromProcCgroup('nonsense\n:\n\n'), { id: '', path: '' });
});

test('dockerFieldOf cuts to 31 characters and keeps short values', (t) => {
  t.is(dockerFieldOf(ID), ID.slice(0, 31));
  t.is(dockerFieldOf(''), '');
  t.is(dockerFieldOf('abc'), 'abc');
});

test('property: any 64-hex id under any known wrapper is recovered whole', (t) => {
  const hexId = fc.stringMatching(/^[0-9a-f]{64}$/);
  const wrap = fc.constantFrom(
    (id: string) => `/kubepods/besteffort/pod${UID}/${id}`,
    (id: string) => `/kubepods.slice/x.slice/cri-containerd-${id}.scope`,
    (id: string) => `/system.slice/docker-${id}.scope`,
    (id: string) => `/machine.slice/libpod-${id}.scope/container`,
    (id: string) => `/x.slice:crio:${id}`,
  );
  fc.assert(
    fc.property(hexId, wrap, (id, w) => containerIdFromCgroupPath(w(id)) === id),
    { numRuns: 300 },
  );
  t.pass();
});

test('property: never throws and returns either "" or a lowercase hex substring of the path', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (path) => {
      const id = containerIdFromCgroupPath(path);
      return id === '' || (/^[0-9a-f]{31,}$/.test(id) && path.includes(id));
    }),
    { numRuns: 500 },
  );
  t.pass();
});
