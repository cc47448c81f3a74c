// receiver/src/cli/features/k8s-feature.ts
// The Kubernetes feature: flags, kubeconfig loading, and the informer + enricher it starts.

import type { KubeConfig } from '@kubernetes/client-node';
import { Option } from 'commander';
import type { Command } from 'commander';
import { K8sMetrics } from '../../enrich/k8s-metrics.js';
import { DEFAULT_POD_WAIT_MS, PodEnricher } from '../../enrich/pod-enricher.js';
import { PodIndex } from '../../enrich/pod-index.js';
import type { BackoffOptions } from '../../enrich/pod-informer.js';
import { ConfigError, getErrorMessage } from '../../errors.js';
import type { AgentContext, AgentFeature, StartedFeature } from '../agent-feature.js';
import { parseDuration } from '../option-parsers.js';

/** Default --deleted-pod-cache-size, as Tetragon's. */
export const DEFAULT_DELETED_POD_CACHE_SIZE = 1024;
/** How long start waits for the first pod list before the agent goes on without it. */
const DEFAULT_SYNC_TIMEOUT_MS = 5_000;
/** A wait longer than this would bring back Tetragon's problem of stale, reordered streams. */
const MAX_POD_WAIT_MS = 60_000;

/** The options commander hands over for this feature (camel-cased flag names). */
interface K8sFlags {
  readonly enableK8sApi?: unknown;
  readonly kubeconfig?: unknown;
  readonly enablePodAnnotations?: unknown;
  readonly deletedPodCacheSize?: unknown;
  readonly k8sPodWait?: unknown;
}

export interface K8sFeatureOptions {
  /** Environment read for in-cluster detection (KUBERNETES_SERVICE_HOST). Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** How long start waits for the first list. Default 5 s. */
  readonly syncTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
}

/**
 * `--enable-k8s-api`: watches this node's pods and adds `pod` to events (process, parent, ancestors).
 * Disabled (start returns undefined) without the flag; the `docker` field and container ids come from
 * cgroup paths either way.
 */
export class K8sFeature implements AgentFeature {
  readonly name = 'k8s';

  constructor(private readonly _options: K8sFeatureOptions = {}) {}

  addOptions(command: Command): void {
    command
      .option('--enable-k8s-api', 'add Kubernetes pod metadata to events (watches this node\'s pods)', false)
      .option('--kubeconfig <path>', 'kubeconfig for --enable-k8s-api (default: in-cluster service account)')
      .option('--enable-pod-annotations', 'include pod annotations in pod metadata', false)
      .addOption(
        new Option('--deleted-pod-cache-size <n>', 'recently deleted pods kept for late events').default(
          String(DEFAULT_DELETED_POD_CACHE_SIZE),
        ),
      )
      .addOption(
        new Option(
          '--k8s-pod-wait <duration>',
          'longest time an event waits for its container\'s pod to appear (e.g. 500ms, 2s; 0 never waits)',
        ).default(`${DEFAULT_POD_WAIT_MS / 1000}s`),
      );
  }

  async start(options: Readonly<Record<string, unknown>>, context: AgentContext): Promise<StartedFeature | undefined> {
    const flags = options as K8sFlags;
    // Checked even when the API is off, so a typo does not wait for the day it is enabled.
    const deletedPodCacheSize = parseCacheSize(String(flags.deletedPodCacheSize ?? DEFAULT_DELETED_POD_CACHE_SIZE));
    const podWaitMs = parseDuration('--k8s-pod-wait', String(flags.k8sPodWait ?? `${DEFAULT_POD_WAIT_MS}ms`));
    if (podWaitMs > MAX_POD_WAIT_MS) {
      throw new ConfigError(`--k8s-pod-wait: "${String(flags.k8sPodWait)}" is above ${MAX_POD_WAIT_MS / 1000}s`);
    }
    if (flags.enableK8sApi !== true) return undefined;
    const enablePodAnnotations = flags.enablePodAnnotations === true;
    const kubeconfigPath = typeof flags.kubeconfig === 'string' && flags.kubeconfig !== '' ? flags.kubeconfig : undefined;
    // Loaded only when enabled: the client library alone costs ~100 MB of RSS and ~250 ms at start.
    const { KubeConfig: KubeConfigClass } = await import('@kubernetes/client-node');
    const { PodInformer } = await import('../../enrich/pod-informer.js');
    const kubeConfig = this._loadKubeConfig(new KubeConfigClass(), kubeconfigPath);
    if (context.nodeName === '') throw new ConfigError('--enable-k8s-api: the node name is empty (set NODE_NAME or --node-name)');

    const metrics = new K8sMetrics(context.metrics);
    const index = new PodIndex({ deletedPodCacheSize, enablePodAnnotations, metrics });
    const informer = new PodInformer({
      kubeConfig,
      nodeName: context.nodeName,
      sink: index,
      logger: context.logger,
      metrics,
      keepAnnotations: enablePodAnnotations,
      ...(this._options.backoff !== undefined ? { backoff: this._options.backoff } : {}),
    });
    informer.start();
    const synced = await informer.waitForSync(this._options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS);
    if (!synced) {
      context.logger.warn('k8s: no pod list yet; going on, container events wait at most --k8s-pod-wait meanwhile', {
        'k8s.node.name': context.nodeName,
        'k8s.pod_wait_ms': podWaitMs,
      });
    }
    const enricher = new PodEnricher({ lookup: index, metrics, logger: context.logger, podWaitMs });
    return {
      enricher,
      close: async () => {
        await informer.stop();
      },
    };
  }

  private _loadKubeConfig(kubeConfig: KubeConfig, path: string | undefined): KubeConfig {
    if (path !== undefined) {
      try {
        kubeConfig.loadFromFile(path);
      } catch (error: unknown) {
        throw new ConfigError(`--kubeconfig: cannot load "${path}": ${getErrorMessage(error)}`, { cause: error });
      }
      if (kubeConfig.getCurrentCluster() === null) {
        throw new ConfigError(`--kubeconfig: "${path}" has no current context with a cluster`);
      }
      return kubeConfig;
    }
    const env = this._options.env ?? process.env;
    if (env['KUBERNETES_SERVICE_HOST'] === undefined || env['KUBERNETES_SERVICE_HOST'] === '') {
      throw new ConfigError('--enable-k8s-api: not running in a pod (no KUBERNETES_SERVICE_HOST); pass --kubeconfig');
    }
    try {
      kubeConfig.loadFromCluster();
    } catch (error: unknown) {
      throw new ConfigError(`--enable-k8s-api: cannot load the in-cluster config: ${getErrorMessage(error)}`, { cause: error });
    }
    return kubeConfig;
  }
}

function parseCacheSize(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new ConfigError(`--deleted-pod-cache-size: "${value}" is not a whole number`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n > 1_000_000) throw new ConfigError(`--deleted-pod-cache-size: "${value}" is too large`);
  return n;
}
