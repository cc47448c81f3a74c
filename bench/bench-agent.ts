// bench/bench-agent.ts
// Starts the agent for a benchmark, its stdout going where the benchmark wants (a file, /dev/null, nowhere).

import { spawn } from 'node:child_process';
import { AGENT_NODE_FLAGS, CLI } from '../test/helpers/agent.js';

export interface BenchAgent {
  readonly pid: number;
  /** Set when the agent was given --metrics-server. */
  readonly metricsUrl: string | undefined;
  /** SIGTERM, resolved once the agent has exited. */
  stop(): Promise<void>;
}

/** Runs `execscope agent <args>` as bin/execscope.js would (same V8 flags) and waits until it is ready. */
export async function startBenchAgent(args: readonly string[], stdout: 'ignore' | number = 'ignore'): Promise<BenchAgent> {
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, CLI, 'agent', ...args], { stdio: ['ignore', stdout, 'pipe'] });
  let metricsUrl: string | undefined;
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      // The metrics server logs its address before the agent says it is ready.
      const m = /"server.address":"([^"]+)","server.port":(\d+)/.exec(buf);
      if (m !== null) metricsUrl = `http://${m[1]}:${m[2]}`;
      if (buf.includes('"msg":"agent ready"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`agent exited ${code}: ${buf}`)));
  });
  return {
    pid: child.pid!,
    metricsUrl,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
