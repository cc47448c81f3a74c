// test/unit/cli-validation.test.ts
// Every bad flag value of `execscope agent` and `execscope getevents` exits 2 with a message naming the flag and the value.

import { spawn } from 'node:child_process';
import test from 'ava';
import { CLI, isRoot } from '../helpers/agent.js';

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stderr, with JSON log lines reduced to their msg (so values are compared unescaped). */
  readonly message: string;
}

/**
 * Runs the CLI with stdin at EOF. As root it runs as nobody: a value the agent fails to reject then stops at the
 * privilege check (exit 1) instead of loading BPF, so a missed validation fails fast and never starts a sensor.
 */
function run(args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(isRoot() ? { uid: 65534, gid: 65534 } : {}),
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const message = stderr
        .split('\n')
        .map((line) => {
          try {
            return String((JSON.parse(line) as { msg?: unknown }).msg ?? line);
          } catch {
            return line;
          }
        })
        .join('\n');
      resolve({ code, signal, message });
    });
  });
}

/** Runs at most `limit` CLIs at a time (the machine has two cores shared with other work). */
async function runAll(cases: readonly (readonly string[])[], limit = 3): Promise<Outcome[]> {
  const out: Outcome[] = new Array<Outcome>(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await run(cases[i] ?? []);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

/** [flag, bad value, extra arguments the value needs to be looked at]. */
type Case = readonly [flag: string, value: string, extra?: readonly string[]];

const AGENT_OWN: readonly Case[] = [
  ['--process-cache-size', 'lots'],
  ['--process-cache-size', '0'],
  ['--process-cache-size', '-1'],
  ['--process-cache-size', '1.5'],
  ['--process-cache-gc-interval', 'soon'],
  ['--process-cache-gc-interval', '-5s'],
  ['--metrics-server', 'nowhere'],
  ['--metrics-server', '127.0.0.1:99999'],
  ['--rb-size', 'big'],
  ['--rb-size', '-1'],
  ['--rb-size', '1T'],
  ['--args-max', '0'],
  ['--args-max', '70000'],
  ['--args-max', 'x'],
  ['--log-level', 'loud'],
  ['--enable-ancestors', 'kprobe'],
  ['--cgroup-v1-controller', 'no-such-controller'],
  ['--shutdown-timeout', 'later'],
  ['--shutdown-timeout', '-1s'],
  ['--process-cache-gc-interval', '0'],
  ['--rb-size', '64G'],
  ['--metrics-server', 'a b:2112'],
  ['--procfs', '/no/such/dir'],
  ['--rb-size', '0'],
  ['--shutdown-timeout', '0'],
  ['--node-name', ' '],
];

const AGENT_GRPC: readonly Case[] = [
  ['--server-address', 'nowhere'],
  ['--server-address', 'localhost:99999'],
  ['--server-address', 'unix://relative.sock'],
  ['--server-address', '0.0.0.0:54321'],
  ['--server-address', '[::]:54321'],
  ['--server-address', ':54321'],
  ['--event-queue-size', '0'],
  ['--event-queue-size', 'many'],
  // Checked even when the server is off.
  ['--event-queue-size', '-3', ['--server-address', '']],
  ['--server-tls-cert-file', '/no/such/server.pem', ['--server-tls-key-file', '/no/such/key.pem', '--server-address', '']],
  ['--server-tls-cert-file', '/no/such/server.pem', ['--server-tls-key-file', '/no/such/key.pem']],
  ['--server-tls-cert-file', '/etc/hostname', ['--server-tls-key-file', '/etc/hostname']],
  ['--server-tls-key-file', '/no/such/key.pem'],
  ['--server-tls-client-ca-files', '/no/such/ca.pem'],
];

const GETEVENTS: readonly Case[] = [
  ['--output', 'yaml'],
  ['--color', 'sometimes'],
  ['--event-types', 'PROCESS_EXECUTE'],
  ['--include-fields', 'process.nope'],
  ['--exclude-fields', 'nope'],
  ['--namespace-regex', '(?=x)'],
  ['--process', '('],
  ['--processes', '('],
  ['--pod', '['],
  ['--pods', '['],
  ['--containers', 'a**'],
  ['--server-address', 'nowhere'],
  ['--timeout', 'soon'],
  ['--timeout', '-1s'],
  ['--retries', '-1'],
  ['--retries', 'x'],
  ['--reconnect-wait', 'x'],
  ['--reconnect-wait', '-1s'],
  ['--max-recv-size', '0'],
  ['--max-recv-size', 'x'],
  ['--tls-cert-file', '/no/such/client.pem', ['--tls-key-file', '/no/such/key.pem']],
  ['--tls-key-file', '/no/such/key.pem'],
  ['--tls-ca-cert-files', '/no/such/ca.pem'],
  ['--tls-server-name', 'not a name'],
];

function argsOf(command: string, [flag, value, extra]: Case): string[] {
  return [command, flag, value, ...(extra ?? [])];
}

function check(t: { is(a: unknown, b: unknown, m?: string): void; true(v: boolean, m?: string): void }, c: Case, o: Outcome): void {
  const [flag, value] = c;
  const label = `${flag} ${JSON.stringify(value)}`;
  t.is(o.code, 2, `${label}: exit code (signal ${o.signal}); stderr: ${o.message}`);
  t.true(o.message.includes(flag), `${label}: the message names the flag: ${o.message}`);
  t.true(o.message.includes(value), `${label}: the message names the value: ${o.message}`);
}

test('agent: every bad value of its own flags exits 2 naming the flag and value', async (t) => {
  const cases = AGENT_OWN;
  const outcomes = await runAll(cases.map((c) => argsOf('agent', c)));
  cases.forEach((c, i) => check(t, c, outcomes[i] as Outcome));
});

test('agent: bad gRPC flags exit 2 before any privilege check, plaintext bind-all names --server-allow-insecure-remote', async (t) => {
  const cases = AGENT_GRPC;
  const outcomes = await runAll(cases.map((c) => argsOf('agent', c)));
  cases.forEach((c, i) => check(t, c, outcomes[i] as Outcome));
  for (const [i, c] of cases.entries()) {
    if (c[0] === '--server-address' && /^(0\.0\.0\.0|\[::\])?:54321$/.test(c[1])) t.regex(outcomes[i]?.message ?? '', /--server-allow-insecure-remote/);
  }
  // What the refusal protects is reachable with the explicit flag (it then stops at the privilege check, or runs as root).
  const allowed = await run(['agent', '--server-address', '0.0.0.0:54321', '--server-allow-insecure-remote']);
  t.not(allowed.code, 2, allowed.message);
});

test('getevents: every bad flag value exits 2 naming the flag and value', async (t) => {
  const cases = GETEVENTS;
  const outcomes = await runAll(cases.map((c) => argsOf('getevents', c)));
  cases.forEach((c, i) => check(t, c, outcomes[i] as Outcome));
});
