// test/privileged/shutdown.test.ts
// SIGTERM in the middle of an exec storm: every event the agent accepted reaches every sink before it exits.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { PROGS, startAgent, warnIfNotRoot } from '../helpers/agent.js';
import { plainAttributes, startOtlpReceiver } from '../helpers/otlp-receiver.js';

const privileged = warnIfNotRoot('shutdown.test.ts');
const t = privileged ? test.serial : test.skip;

/** Events whose own process (not its parent) is one of the storm's execs. */
const count = (lines: readonly string[], kind: string, tag: string) => {
  const own = new RegExp(`^\\{"${kind}":\\{"process":\\{[^{}]*"arguments":"${tag}-`);
  return lines.filter((l) => own.test(l)).length;
};

t('SIGTERM under load: stdout, the export file and OTLP all get the same events, and the agent exits 0', async (tt) => {
  const dir = mkdtempSync(join(tmpdir(), 'execscope-shutdown-'));
  const receiver = await startOtlpReceiver();
  const exportFile = join(dir, 'events.log');
  const tag = `shut${process.pid}`;
  try {
    // A size limit above what the storm writes, so the file is not rotated under the test.
    const agent = await startAgent(['-o', 'json', '--export-filename', exportFile, '--export-file-max-size-mb', '1000', '--otlp-endpoint', receiver.url, '--shutdown-timeout', '20s']);
    const storm = spawn(join(PROGS, 'storm'), ['-p', '2', '-n', '20000', '-e', join(PROGS, 'tiny'), '-t', tag], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 800));
    const code = await agent.stop('SIGTERM');
    storm.kill('SIGKILL');
    tt.is(code, 0);

    const stdoutExecs = count(agent.stdoutLines, 'process_exec', tag);
    const stdoutExits = count(agent.stdoutLines, 'process_exit', tag);
    tt.true(stdoutExecs > 100, `the storm was under way (${stdoutExecs} execs printed)`);
    const fileLines = readFileSync(exportFile, 'utf8').split('\n');
    tt.is(count(fileLines, 'process_exec', tag), stdoutExecs, 'export file has every exec');
    tt.is(count(fileLines, 'process_exit', tag), stdoutExits, 'export file has every exit');
    const otlp = receiver.records.filter((r) => {
      const argv = plainAttributes(r.attributes)['process.command_args'];
      return Array.isArray(argv) && String(argv[1] ?? '').startsWith(tag);
    });
    tt.is(otlp.length, stdoutExecs + stdoutExits, 'OTLP has every exec and exit');
    tt.true(agent.stderrLines.some((l) => l.includes('"msg":"stopped"')));
  } finally {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

t('a second SIGTERM exits at once, with a non-zero code', async (tt) => {
  const receiver = await startOtlpReceiver({ refusing: true });
  try {
    // OTLP refuses every export, so the first SIGTERM waits for the shutdown timeout.
    const agent = await startAgent(['--otlp-endpoint', receiver.url, '--shutdown-timeout', '30s']);
    spawn('/bin/true', [`second-term-${process.pid}`]);
    await new Promise((r) => setTimeout(r, 300));
    agent.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const code = await agent.stop('SIGTERM');
    tt.not(code, 0);
    tt.true(Date.now() - started < 3000, 'exited promptly after the second signal');
    tt.true(agent.stderrLines.some((l) => l.includes('second signal')));
  } finally {
    await receiver.close();
  }
});
