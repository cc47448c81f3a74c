// receiver/src/enrich/container-id.ts
// Container ids from cgroup paths (containerd, cri-o, docker, podman; cgroupfs and systemd drivers; v1 and v2).

/** Length of Tetragon's `docker` field: the container id cut to 31 characters. */
export const DOCKER_FIELD_LENGTH = 31;

/** Shortest id accepted after a runtime prefix: a name the kernel cut short still leaves this much. */
const MIN_PREFIXED_ID_LENGTH = DOCKER_FIELD_LENGTH;
/** A bare path component must be a whole 64-hex id, or any hex-named cgroup would count. */
const BARE_ID_LENGTH = 64;

const HEX_RE = /^[0-9a-f]+$/;

/**
 * Scopes that sit next to a container but are not it (the runtime's monitor process); their names end in
 * the container id too, so they must be rejected by prefix before the id is cut out.
 */
const NOT_A_CONTAINER_PREFIXES = ['crio-conmon-', 'libpod-conmon-'] as const;

/**
 * Podman (and cri-o with some configurations) run the container's processes in a child cgroup named
 * `container` below the scope; the id is on the parent.
 */
const INNER_CHILD_NAMES = new Set(['container']);

/**
 * Returns the full container id (untruncated) that a cgroup path names, or "" for host cgroups.
 *
 * The path is the one the sensor records or the third field of a `/proc/<pid>/cgroup` line, without the
 * `N:controller:` prefix, e.g. `/kubepods/besteffort/pod<uid>/<64 hex>`,
 * `/kubepods.slice/…/cri-containerd-<id>.scope`, `/system.slice/docker-<id>.scope`,
 * `…/kubepods-burstable-pod<uid>.slice:cri-containerd:<id>` or `/machine.slice/libpod-<id>.scope/container`.
 * Only the last component decides (its parent when the last one is `container`), so systemd services and
 * `init.scope` nested inside a container's scope (kind, minikube nodes) are host processes.
 */
export function containerIdFromCgroupPath(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f /* / */) end--;
  let start = path.lastIndexOf('/', end - 1) + 1;
  let component = path.slice(start, end);
  if (INNER_CHILD_NAMES.has(component) && start > 1) {
    end = start - 1;
    start = path.lastIndexOf('/', end - 1) + 1;
    component = path.slice(start, end);
  }
  return containerIdFromComponent(component);
}

/** Parses one cgroup directory name: `<id>`, `<runtime>-<id>[.scope]` or `<slice>:<runtime>:<id>`. */
function containerIdFromComponent(component: string): string {
  if (component === '') return '';
  for (const prefix of NOT_A_CONTAINER_PREFIXES) {
    if (component.startsWith(prefix)) return '';
  }
  let name = component;
  let prefixed = false;
  // cgroupfs-style systemd names: "kubepods-…-pod<uid>.slice:cri-containerd:<id>".
  const colon = name.lastIndexOf(':');
  if (colon >= 0) {
    name = name.slice(colon + 1);
    prefixed = true;
  }
  if (name.endsWith('.scope')) {
    name = name.slice(0, -'.scope'.length);
  } else if (name.includes('.')) {
    // .service, .slice, .mount …: never a container.
    return '';
  }
  const dash = name.lastIndexOf('-');
  if (dash >= 0) {
    name = name.slice(dash + 1);
    prefixed = true;
  }
  if (!HEX_RE.test(name)) return '';
  if (prefixed ? name.length < MIN_PREFIXED_ID_LENGTH : name.length !== BARE_ID_LENGTH) return '';
  return name;
}

/** One `/proc/<pid>/cgroup` line split into its hierarchy id, controllers and path. */
interface CgroupLine {
  readonly hierarchy: string;
  readonly controllers: readonly string[];
  readonly path: string;
}

function parseCgroupLine(line: string): CgroupLine | undefined {
  // The path may itself contain ':' (cgroupfs-style systemd names), so split on the first two only.
  const first = line.indexOf(':');
  if (first < 0) return undefined;
  const second = line.indexOf(':', first + 1);
  if (second < 0) return undefined;
  const controllerList = line.slice(first + 1, second);
  return {
    hierarchy: line.slice(0, first),
    controllers: controllerList === '' ? [] : controllerList.split(','),
    path: line.slice(second + 1),
  };
}

/** Result of parsing a whole `/proc/<pid>/cgroup` file. */
export interface ProcCgroupResult {
  /** Full container id, "" when no line names a container. */
  readonly id: string;
  /**
   * The path the id came from; without an id, the v2 path (else the preferred v1 controller's path, else
   * the first line's), so the process still records where it runs. "" for an empty file.
   */
  readonly path: string;
}

/**
 * Parses a `/proc/<pid>/cgroup` file (cgroup v1 `N:ctrl[,ctrl]:/path` lines, the v2 `0::/path` line, or
 * both on hybrid hosts) for the startup /proc scan. v1 lines are tried first, `preferredController` (the
 * sensor's v1 controller, `memory` by default) before the others, then the v2 line — the same order the
 * process cache uses for the sensor's paths.
 */
export function containerIdFromProcCgroup(content: string, preferredController = 'memory'): ProcCgroupResult {
  const v1: CgroupLine[] = [];
  let v2: CgroupLine | undefined;
  for (const raw of content.split('\n')) {
    const line = parseCgroupLine(raw.trim());
    if (line === undefined) continue;
    if (line.hierarchy === '0' && line.controllers.length === 0) v2 = line;
    else v1.push(line);
  }
  const preferred = v1.filter((l) => l.controllers.includes(preferredController));
  const others = v1.filter((l) => !l.controllers.includes(preferredController));
  const ordered = [...preferred, ...others];
  if (v2 !== undefined) ordered.push(v2);
  for (const line of ordered) {
    const id = containerIdFromCgroupPath(line.path);
    if (id !== '') return { id, path: line.path };
  }
  const fallback = v2 ?? preferred[0] ?? others[0];
  return { id: '', path: fallback?.path ?? '' };
}

/** Tetragon's `docker` field: the first 31 characters of a container id ("" stays ""). */
export function dockerFieldOf(id: string): string {
  return id.length <= DOCKER_FIELD_LENGTH ? id : id.slice(0, DOCKER_FIELD_LENGTH);
}
