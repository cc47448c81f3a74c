// test/privileged/agent-cli.test.ts
// The agent as a program: flags, exit codes, compact output, signals, ancestors, env capture, redaction.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import { CLI, metricValue, startAgent, warnIfNotRoot } from '../helpers/agent.js';

const privileged = warnIfNotRoot('agent-cli.test.ts');
const t = privileged ? test.serial : test.skip;
let seq = 0;
const marker = (name: string) => `esc-${name}-${process.pid}-${++seq}`;

interface Proc {
  binary: string;
  arguments?: string;
  pid: number;
  environment_variables?: { Key?: string; Value?: string }[];
}
interface Ev {
  process_exec?: { process: Proc; parent?: Proc; ancestors?: Proc[] };
  process_exit?: { process: Proc };
}

test('bad flags are a usage error with exit code 2 and a message naming the value', (tt) => {
  const bogus = spawnSync(process.execPath, [CLI, 'agent', '--no-such-flag'], { encoding: 'utf8' });
  tt.is(bogus.status, 2);
  tt.regex(bogus.stderr, /unknown option '--no-such-flag'/);
  const bad = spawnSync(process.execPath, [CLI, 'agent', '--process-cache-size', 'lots'], { encoding: 'utf8' });
  tt.is(bad.status, 2);
  tt.regex(bad.stderr, /--process-cache-size: \\"lots\\" is not a positive integer/);
  tt.regex(bad.stderr, /ERR_CONFIG_INVALID/);
  const env = spawnSync(process.execPath, [CLI, 'agent', '--enable-process-environment-variables'], { encoding: 'utf8' });
  tt.is(env.status, 2);
  tt.regex(env.stderr, /--filter-environment-variables/);
  const redaction = spawnSync(process.execPath, [CLI, 'agent', '--redaction-filters', '{"redact":["(unclosed"]}'], { encoding: 'utf8' });
  tt.is(redaction.status, 2);
  tt.regex(redaction.stderr, /redact/);
});

t('a non-root user is refused with a clear error', (tt) => {
  const r = spawnSync(process.execPath, [CLI, 'agent', '--server-address', ''], { encoding: 'utf8', uid: 65534, gid: 65534 });
  tt.is(r.status, 1);
  tt.regex(r.stderr, /ERR_NOT_PRIVILEGED/);
});

t('compact output prints Tetragon lines; SIGTERM flushes and exits 0', async (tt) => {
  const agent = await startAgent(['-o', 'compact', '--color', 'never', '--node-name', 'cli-node']);
  const m = marker('compact');
  spawnSync('/bin/sh', ['-c', 'exit 3', m]);
  const exec = await agent.waitForLine((l) => l.startsWith('🚀 process') && l.includes(m));
  tt.is(exec, `🚀 process cli-node /bin/sh -c "exit 3" ${m}`);
  const exit = await agent.waitForLine((l) => l.startsWith('💥 exit') && l.includes(m));
  tt.is(exit, `💥 exit    cli-node /bin/sh -c "exit 3" ${m} 3`);
  tt.is(await agent.stop('SIGTERM'), 0);
  tt.true(agent.stderrLines.some((l) => l.includes('"msg":"stopped"')));
});

t('--enable-ancestors base adds the chain, grandparent first', async (tt) => {
  const agent = await startAgent(['-o', 'json', '--enable-ancestors', 'base']);
  try {
    const m = marker('anc');
    spawnSync('/bin/sh', ['-c', `/bin/sh -c "/bin/echo ${m} >/dev/null; true"; true`]);
    const e = await agent.waitForJson<Ev>((ev) => ev.process_exec?.process.binary === '/bin/echo' && ev.process_exec.process.arguments === m);
    const ancestors = e.process_exec!.ancestors ?? [];
    tt.true(ancestors.length >= 2);
    tt.regex(ancestors[0]!.arguments ?? '', /^-c "\/bin\/sh -c/, 'the outer shell is the grandparent');
    tt.is(ancestors[1]!.pid, process.pid, 'then this test process');
  } finally {
    await agent.stop();
  }
});

t('environment variables: only the named ones, redacted; never the whole environment', async (tt) => {
  const agent = await startAgent([
    '-o',
    'json',
    '--enable-process-environment-variables',
    '--filter-environment-variables',
    'DB_URL,KEEP',
    '--redaction-filters',
    '{"redact":["password=(\\\\S+)"]}',
  ]);
  try {
    const m = marker('env');
    spawnSync('/bin/true', [m, 'password=hunter2'], { env: { KEEP: 'yes', DB_URL: 'postgres://u@h/db?password=s3cret', SECRET: 'nope', PATH: '/bin' } });
    const e = await agent.waitForJson<Ev>((ev) => ev.process_exec?.process.arguments?.startsWith(m) === true);
    const p = e.process_exec!.process;
    tt.is(p.arguments, `${m} password=*****`);
    tt.deepEqual(
      [...(p.environment_variables ?? [])].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? '')),
      [
        { Key: 'DB_URL', Value: 'postgres://u@h/db?password=*****' },
        { Key: 'KEEP', Value: 'yes' },
      ],
    );
  } finally {
    await agent.stop();
  }
});

t('the metrics server serves /healthz, /readyz and the documented metrics', async (tt) => {
  const agent = await startAgent(['--metrics-server', '127.0.0.1:0']);
  try {
    tt.is((await fetch(`${agent.metricsUrl}/healthz`)).status, 200);
    tt.is((await fetch(`${agent.metricsUrl}/readyz`)).status, 200);
    tt.is((await fetch(`${agent.metricsUrl}/nope`)).status, 404);
    spawnSync('/bin/true', [marker('metrics')]);
    await new Promise((r) => setTimeout(r, 200));
    const text = await agent.metrics();
    for (const name of [
      'execscope_events_total',
      'execscope_kernel_records_total',
      'execscope_kernel_ring_dropped_total',
      'execscope_ring_records_total',
      'execscope_user_dropped_records_total',
      'execscope_sequence_gap_records_total',
      'execscope_decode_errors_total',
      'execscope_process_cache_size',
    ]) {
      tt.true(text.includes(`# TYPE ${name} `), name);
    }
    tt.true((metricValue(text, 'execscope_kernel_records_total', 'record="exec"') ?? 0) >= 1);
  } finally {
    await agent.stop();
  }
});

/** CapEff of every thread of a process, and whether the thread blocks every catchable signal. */
function threadCaps(pid: number): { tid: string; capEff: bigint; capBnd: bigint; blocksAll: boolean }[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    const field = (name: string) => BigInt(`0x${new RegExp(`^${name}:\\s+([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0'}`);
    return {
      tid,
      capEff: field('CapEff'),
      capBnd: field('CapBnd'),
      // Node's SIGUSR1 watcher thread blocks every signal and cannot be reached; it only starts the inspector.
      blocksAll: (field('SigBlk') & 0x7ffbfeffn) === 0x7ffbfeffn,
    };
  });
}

t('once attached, the agent holds no capability (but with --keep-capabilities)', async (tt) => {
  const agent = await startAgent(['--metrics-server', '127.0.0.1:0']);
  try {
    const threads = threadCaps(agent.child.pid!);
    const privilegedThreads = threads.filter((th) => th.capEff !== 0n || th.capBnd !== 0n);
    tt.true(threads.length > 3);
    tt.true(privilegedThreads.length <= 1, `threads still privileged: ${JSON.stringify(privilegedThreads.map((th) => th.tid))}`);
    for (const th of privilegedThreads) tt.true(th.blocksAll, `thread ${th.tid} kept capabilities without blocking signals`);
    // Still fully working without them: events, metrics from the BPF maps.
    spawnSync('/bin/true', [marker('nocaps')]);
    await new Promise((r) => setTimeout(r, 200));
    tt.true((metricValue(await agent.metrics(), 'execscope_kernel_records_total', 'record="exec"') ?? 0) >= 1);
  } finally {
    await agent.stop();
  }
  const keeper = await startAgent(['--keep-capabilities']);
  try {
    const kept = threadCaps(keeper.child.pid!);
    tt.true(kept.every((th) => th.capEff !== 0n), JSON.stringify(kept.map((th) => th.capEff.toString(16))));
  } finally {
    await keeper.stop();
  }
});

t('options of a feature that is off are still checked at start (exit 2, naming the flag)', (tt) => {
  for (const [flag, value] of [
    ['--otlp-compression', 'brotli'],
    ['--otlp-header', 'no-equals-sign'],
    ['--export-file-max-size-mb', 'x'],
    ['--field-filters', '{bad'],
    ['--k8s-pod-wait', 'soon'],
    ['--deleted-pod-cache-size', 'x'],
  ] as const) {
    const r = spawnSync(process.execPath, [CLI, 'agent', '--server-address', '', flag, value], { encoding: 'utf8', timeout: 20_000 });
    tt.is(r.status, 2, `${flag} ${value}: ${r.stderr}`);
    tt.true(r.stderr.includes(flag), `${flag} named: ${r.stderr}`);
  }
});
