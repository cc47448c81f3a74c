// test/helpers/otlp-sink.ts
// Builds an OtlpLogSink the way the agent does (flags + an OTEL_* environment), for tests and benchmarks.

import { silentLogger } from '../../receiver/src/logger.js';
import type { Logger } from '../../receiver/src/logger.js';
import { Gauge, MetricsRegistry } from '../../receiver/src/metrics.js';
import { compactBody } from '../../receiver/src/cli/features/otlp-feature.js';
import { resolveOtlpConfig } from '../../receiver/src/otel/otlp-config.js';
import type { OtlpConfig, OtlpFlags } from '../../receiver/src/otel/otlp-config.js';
import { OtlpLogSink } from '../../receiver/src/otel/otlp-log-sink.js';
import type { OtlpLogSinkDeps } from '../../receiver/src/otel/otlp-log-sink.js';

export interface TestSinkOptions {
  readonly flags?: OtlpFlags;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides applied to the resolved configuration (e.g. a faster retry schedule). */
  readonly configure?: (config: OtlpConfig) => OtlpConfig;
  readonly logger?: Logger;
  readonly deps?: Partial<OtlpLogSinkDeps>;
}

export interface TestSink {
  readonly sink: OtlpLogSink;
  readonly config: OtlpConfig;
  readonly registry: MetricsRegistry;
  /** Value of a counter or gauge (collected first) in the registry (0 when absent). */
  metric(name: string, labels?: Readonly<Record<string, string>>): number;
  /** Warnings the configuration step reported. */
  readonly configWarnings: readonly string[];
}

/** Retries fast enough for tests (the defaults wait 1 s, then 1.5 s, …). */
export const FAST_RETRY = { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 0 } as const;

export function createTestSink(options: TestSinkOptions = {}): TestSink {
  const registry = new MetricsRegistry();
  const configWarnings: string[] = [];
  const resolved = resolveOtlpConfig(options.flags ?? {}, {
    env: options.env ?? {},
    warn: (msg) => configWarnings.push(msg),
  });
  if (resolved === undefined) throw new Error('OTLP export is disabled by this configuration');
  const config = options.configure?.(resolved) ?? { ...resolved, retry: FAST_RETRY };
  const sink = new OtlpLogSink(config, {
    logger: options.logger ?? silentLogger,
    metrics: registry,
    nodeName: 'test-node',
    formatBody: compactBody,
    ...options.deps,
  });
  return {
    sink,
    config,
    registry,
    configWarnings,
    metric: (name, labels) => {
      const metric = registry.find(name);
      if (metric instanceof Gauge) metric.collect();
      return metric?.get(labels ?? {}) ?? 0;
    },
  };
}
