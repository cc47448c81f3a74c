// receiver/src/otel/resource-attributes.ts
// Resource attributes of a pod and container, one extractor per row of semconv's pod mapping table.

import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_CONTAINER_ID,
  ATTR_CONTAINER_IMAGE_ID,
  ATTR_CONTAINER_IMAGE_NAME,
  ATTR_CONTAINER_IMAGE_TAGS,
  ATTR_CONTAINER_RUNTIME_NAME,
  ATTR_K8S_CONTAINER_NAME,
  ATTR_K8S_CRONJOB_NAME,
  ATTR_K8S_DAEMONSET_NAME,
  ATTR_K8S_DEPLOYMENT_NAME,
  ATTR_K8S_JOB_NAME,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_NODE_NAME,
  ATTR_K8S_POD_ANNOTATION,
  ATTR_K8S_POD_LABEL,
  ATTR_K8S_POD_NAME,
  ATTR_K8S_POD_UID,
  ATTR_K8S_REPLICASET_NAME,
  ATTR_K8S_STATEFULSET_NAME,
} from '../../../semconv/attributes.js';
import { POD_RESOURCE_ATTRIBUTE_MAPPING, WORKLOAD_KIND_ATTRIBUTE } from '../../../semconv/mapping.js';
import type { AttributeValueType, PodResourceAttributeRow } from '../../../semconv/mapping.js';
import type { Pod } from '../model/pod.js';

/** What a pod's Resource is built from. */
export interface PodSource {
  readonly pod: Pod;
  /** The node the event came from. */
  readonly nodeName: string;
}

type ValueOf<T extends AttributeValueType> = T extends 'int' ? number : T extends 'string' ? string : readonly string[];

type ExtractorFor<R extends PodResourceAttributeRow> = R extends { readonly template: true }
  ? (source: PodSource) => Readonly<Record<string, ValueOf<R['type']>>> | undefined
  : (source: PodSource) => ValueOf<R['type']> | undefined;

type PodExtractors = { readonly [R in PodResourceAttributeRow as R['attribute']]: ExtractorFor<R> };

/** `containerd://abc` → { runtime: 'containerd', id: 'abc' }; a bare id has no runtime. */
export function splitContainerId(full: string): { readonly runtime?: string; readonly id: string } {
  const sep = full.indexOf('://');
  if (sep < 0) return { id: full };
  return { runtime: full.slice(0, sep), id: full.slice(sep + 3) };
}

/**
 * `registry:5000/team/app:1.2` → { name: 'registry:5000/team/app', tag: '1.2' }. The tag is after the last
 * `:` that follows the last `/` (a registry port is not a tag); a digest reference (`@sha256:…`) has no tag.
 */
export function splitImageName(image: string): { readonly name: string; readonly tag?: string } {
  const at = image.indexOf('@');
  const ref = at < 0 ? image : image.slice(0, at);
  const colon = ref.lastIndexOf(':');
  if (colon < 0 || colon < ref.lastIndexOf('/')) return { name: ref };
  return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function prefixed(entries: Readonly<Record<string, string>> | undefined, name: (key: string) => string) {
  if (entries === undefined) return undefined;
  const keys = Object.keys(entries);
  if (keys.length === 0) return undefined;
  const out: Record<string, string> = {};
  // Semconv records an empty label value as "", so every key is kept.
  for (const key of keys) out[name(key)] = entries[key] ?? '';
  return out;
}

function workloadName(kind: keyof typeof WORKLOAD_KIND_ATTRIBUTE) {
  return ({ pod }: PodSource) => (pod.workloadKind === kind ? nonEmpty(pod.workload) : undefined);
}

const EXTRACTORS = {
  [ATTR_K8S_NAMESPACE_NAME]: ({ pod }) => nonEmpty(pod.namespace),
  [ATTR_K8S_POD_NAME]: ({ pod }) => nonEmpty(pod.name),
  [ATTR_K8S_POD_UID]: ({ pod }) => nonEmpty(pod.uid),
  'k8s.pod.label.<key>': ({ pod }) => prefixed(pod.podLabels, ATTR_K8S_POD_LABEL),
  'k8s.pod.annotation.<key>': ({ pod }) => prefixed(pod.podAnnotations, ATTR_K8S_POD_ANNOTATION),
  [ATTR_K8S_CONTAINER_NAME]: ({ pod }) => nonEmpty(pod.container?.name),
  [ATTR_CONTAINER_ID]: ({ pod }) => nonEmpty(splitContainerId(pod.container?.id ?? '').id),
  [ATTR_CONTAINER_RUNTIME_NAME]: ({ pod }) => nonEmpty(splitContainerId(pod.container?.id ?? '').runtime),
  [ATTR_CONTAINER_IMAGE_NAME]: ({ pod }) => nonEmpty(splitImageName(pod.container?.image?.name ?? '').name),
  [ATTR_CONTAINER_IMAGE_TAGS]: ({ pod }) => {
    const tag = nonEmpty(splitImageName(pod.container?.image?.name ?? '').tag);
    return tag === undefined ? undefined : [tag];
  },
  [ATTR_CONTAINER_IMAGE_ID]: ({ pod }) => nonEmpty(pod.container?.image?.id),
  [ATTR_K8S_DEPLOYMENT_NAME]: workloadName('Deployment'),
  [ATTR_K8S_REPLICASET_NAME]: workloadName('ReplicaSet'),
  [ATTR_K8S_STATEFULSET_NAME]: workloadName('StatefulSet'),
  [ATTR_K8S_DAEMONSET_NAME]: workloadName('DaemonSet'),
  [ATTR_K8S_JOB_NAME]: workloadName('Job'),
  [ATTR_K8S_CRONJOB_NAME]: workloadName('CronJob'),
  [ATTR_K8S_NODE_NAME]: ({ nodeName }) => nonEmpty(nodeName),
} as const satisfies PodExtractors;

type AnyExtractor = (source: PodSource) => unknown;

const PLAN = POD_RESOURCE_ATTRIBUTE_MAPPING.map((row) => ({
  name: row.attribute as string,
  template: 'template' in row,
  extract: EXTRACTORS[row.attribute] as AnyExtractor,
}));

/** Resource attributes describing where a pod's process runs. */
export function podResourceAttributes(source: PodSource): Attributes {
  const out: Record<string, Attributes[string]> = {};
  for (const step of PLAN) {
    const value = step.extract(source);
    if (value === undefined) continue;
    if (step.template) Object.assign(out, value);
    else out[step.name] = value as Attributes[string];
  }
  return out;
}
