// receiver/src/cli/agent-features.ts
// The optional parts of the agent, in the order they start.

import type { AgentFeature } from './agent-feature.js';
import { exportFileFeature } from './features/export-file-feature.js';
import { grpcFeature } from './features/grpc-feature.js';
import { K8sFeature } from './features/k8s-feature.js';
import { otlpFeature } from './features/otlp-feature.js';

export function agentFeatures(): AgentFeature[] {
  // Kubernetes first: its enricher must exist before sinks see events.
  return [new K8sFeature(), grpcFeature, exportFileFeature, otlpFeature];
}
