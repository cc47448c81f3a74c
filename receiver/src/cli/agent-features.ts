// receiver/src/cli/agent-features.ts
// The optional parts of the agent, in the order they start.

import type { AgentFeature } from './agent-feature.js';
import { K8sFeature } from './features/k8s-feature.js';

export function agentFeatures(): AgentFeature[] {
  return [new K8sFeature()];
}
