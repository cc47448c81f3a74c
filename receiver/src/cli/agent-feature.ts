// receiver/src/cli/agent-feature.ts
// The contract by which optional parts of the agent (gRPC server, export file, OTLP, Kubernetes) plug into it.

import type { Command } from 'commander';
import type { ExecscopeEvent } from '../model/events.js';
import type { EventSink } from '../model/sink.js';
import type { Logger } from '../logger.js';
import type { MetricsRegistry } from '../metrics.js';

/** What the agent hands every feature when it starts. */
export interface AgentContext {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Export node name (for exec_id and node_name). */
  readonly nodeName: string;
}

/**
 * A stage between the process cache and the sinks that may add to an event (e.g. pod metadata) or hold it
 * back for a bounded time. It must call `emit` exactly once for every event it is given.
 */
export interface EventEnricher {
  enrich(event: ExecscopeEvent, emit: (event: ExecscopeEvent) => void): void;
  /** Emits everything still held, then stops. */
  close(timeoutMs: number): Promise<void>;
}

export interface StartedFeature {
  /** Sinks that receive every event after enrichment. */
  readonly sinks?: readonly EventSink[];
  /** At most one feature supplies an enricher (Kubernetes). */
  readonly enricher?: EventEnricher;
  /** Stops what the feature started that is not a sink (servers, informers). Sinks are closed by the agent. */
  close?(timeoutMs: number): Promise<void>;
}

export interface AgentFeature {
  readonly name: string;
  /** Adds this feature's flags to the `agent` command. */
  addOptions(command: Command): void;
  /**
   * Validates its options and starts; returns undefined when the options leave the feature disabled.
   * Throws ConfigError (message naming the bad value) for invalid options.
   */
  start(options: Readonly<Record<string, unknown>>, context: AgentContext): Promise<StartedFeature | undefined>;
}
