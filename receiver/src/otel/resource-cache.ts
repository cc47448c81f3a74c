// receiver/src/otel/resource-cache.ts
// The agent's base Resource and one cached Resource per pod and container, stable across events.

import type { Attributes } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import { ATTR_HOST_NAME, ATTR_SERVICE_NAME } from '../../../semconv/attributes.js';
import type { Pod } from '../model/pod.js';
import { podResourceAttributes } from './resource-attributes.js';

/** service.name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES sets one. */
export const DEFAULT_SERVICE_NAME = 'execscope';

/** Default number of pod/container Resources kept; the least recently used is forgotten first. */
export const DEFAULT_MAX_CACHED_RESOURCES = 4096;

/**
 * Resource keys that describe one pod or container. Set in OTEL_RESOURCE_ATTRIBUTES (often the agent's own
 * pod, through the downward API) they would be stamped on every host process's records, so they are removed
 * from the base Resource; a pod's records get them from the pod.
 */
const POD_SCOPED_KEY = /^(k8s\.(pod|container|namespace|deployment|replicaset|statefulset|daemonset|job|cronjob)\.|container\.)/;

/** Inputs of the agent's base Resource. */
export interface BaseResourceOptions {
  /** Export node name (NODE_NAME or hostname): host.name. */
  readonly nodeName: string;
  /** Parsed OTEL_RESOURCE_ATTRIBUTES. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** OTEL_SERVICE_NAME; wins over service.name in resourceAttributes. */
  readonly serviceName?: string;
}

/** The base Resource and the keys removed from OTEL_RESOURCE_ATTRIBUTES because they describe one pod. */
export function buildBaseResource(options: BaseResourceOptions): { resource: Resource; ignoredKeys: string[] } {
  const user: Record<string, string> = {};
  const ignoredKeys: string[] = [];
  for (const [key, value] of Object.entries(options.resourceAttributes)) {
    if (POD_SCOPED_KEY.test(key)) ignoredKeys.push(key);
    else user[key] = value;
  }
  if (options.serviceName !== undefined) user[ATTR_SERVICE_NAME] = options.serviceName;
  // Later merges win: SDK defaults (telemetry.sdk.*), then ours, then the user's.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: DEFAULT_SERVICE_NAME, [ATTR_HOST_NAME]: options.nodeName }))
    .merge(resourceFromAttributes(user));
  return { resource, ignoredKeys };
}

/** Hands out one Resource object per pod and container, so the serializer groups their records together. */
export class ResourceCache {
  private readonly _byKey = new Map<string, Resource>();
  /** Fast path: the enricher usually hands out the same Pod object for every event of a container. */
  private readonly _byPod = new WeakMap<Pod, Resource>();
  private readonly _max: number;

  constructor(
    readonly base: Resource,
    maxEntries: number = DEFAULT_MAX_CACHED_RESOURCES,
  ) {
    this._max = Math.max(1, maxEntries);
  }

  /** The Resource for a process's pod (the base Resource for host processes). */
  resourceFor(pod: Pod | undefined, nodeName: string): Resource {
    if (pod === undefined) return this.base;
    const known = this._byPod.get(pod);
    if (known !== undefined) return known;
    const key = `${pod.uid}\u0000${pod.namespace}\u0000${pod.name}\u0000${pod.container?.id ?? ''}\u0000${pod.container?.name ?? ''}`;
    const cached = this._byKey.get(key);
    if (cached !== undefined) {
      // Refresh recency: Map keeps insertion order, so the first key is always the least recently used.
      this._byKey.delete(key);
      this._byKey.set(key, cached);
      this._byPod.set(pod, cached);
      return cached;
    }
    const attributes: Attributes = podResourceAttributes({ pod, nodeName });
    const resource = this.base.merge(resourceFromAttributes(attributes));
    if (this._byKey.size >= this._max) {
      const oldest = this._byKey.keys().next();
      if (oldest.done !== true) this._byKey.delete(oldest.value);
    }
    this._byKey.set(key, resource);
    this._byPod.set(pod, resource);
    return resource;
  }

  /** Number of pod/container Resources cached. */
  get size(): number {
    return this._byKey.size;
  }
}
