// test/helpers/fake-kube-api.ts
// A local HTTP server speaking enough of the Kubernetes pod list/watch protocol for the informer's tests.

import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';

interface HistoryEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly pod: V1Pod;
}

interface OpenWatch {
  readonly res: ServerResponse;
  readonly node: string | undefined;
}

/** How the server answers a watch from a resourceVersion it no longer has. */
export type GoneMode = 'status' | 'event';

/**
 * Pods live in memory; every change gets the next resourceVersion and goes to open watches. Tests can
 * break or close watches, forget history (so the next watch gets 410 Gone) and take the API down.
 */
export class FakeKubeApi {
  private readonly _server: Server;
  private readonly _pods = new Map<string, V1Pod>();
  private readonly _nodes = new Set<string>();
  private _history: HistoryEvent[] = [];
  /** Watches from below this resourceVersion get 410 Gone. */
  private _oldestRv = 0;
  private _rv = 100;
  private readonly _watches = new Set<OpenWatch>();
  private readonly _sockets = new Set<Socket>();
  private _down = false;
  goneMode: GoneMode = 'event';
  /** Requests seen, by kind. */
  readonly counts = { list: 0, watch: 0, node: 0, gone: 0, refused: 0 };
  /** Authorization headers seen (the kubeconfig's token must be sent). */
  readonly authorizations: string[] = [];

  private constructor() {
    this._server = createServer((req, res) => this._handle(req, res));
    this._server.on('connection', (socket) => {
      this._sockets.add(socket);
      socket.on('close', () => this._sockets.delete(socket));
    });
  }

  static async start(): Promise<FakeKubeApi> {
    const api = new FakeKubeApi();
    api._server.listen(0, '127.0.0.1');
    await once(api._server, 'listening');
    return api;
  }

  get url(): string {
    const address = this._server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  get openWatches(): number {
    return this._watches.size;
  }

  get resourceVersion(): number {
    return this._rv;
  }

  /** Writes a kubeconfig pointing at this server and returns its path. */
  async writeKubeconfig(dir: string): Promise<string> {
    const path = join(dir, 'kubeconfig.yaml');
    const yaml = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${this.url}`,
      // client-node refuses plain http unless TLS verification is off.
      '    insecure-skip-tls-verify: true',
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      '    user: tester',
      'current-context: fake',
      'users:',
      '- name: tester',
      '  user:',
      '    token: fake-token',
      '',
    ].join('\n');
    await writeFile(path, yaml);
    return path;
  }

  addNode(name: string): void {
    this._nodes.add(name);
  }

  /** Creates or replaces a pod (ADDED the first time, MODIFIED after). */
  apply(pod: V1Pod): V1Pod {
    const key = keyOf(pod);
    const type = this._pods.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = structuredClone(pod);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this._rv) };
    this._pods.set(key, stored);
    this._publish({ rv: this._rv, type, pod: stored });
    return stored;
  }

  delete(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const pod = this._pods.get(key);
    if (pod === undefined) return;
    this._pods.delete(key);
    const gone = structuredClone(pod);
    gone.metadata = { ...gone.metadata, resourceVersion: String(++this._rv) };
    this._publish({ rv: this._rv, type: 'DELETED', pod: gone });
  }

  /** Changes pods without telling anyone (as if the watch missed them); a relist will see them. */
  applySilently(pod: V1Pod): void {
    const stored = structuredClone(pod);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this._rv) };
    this._pods.set(keyOf(stored), stored);
    this._history.push({ rv: this._rv, type: 'MODIFIED', pod: stored });
  }

  deleteSilently(namespace: string, name: string): void {
    this._pods.delete(`${namespace}/${name}`);
    ++this._rv;
  }

  /** Forgets all history: watches from any earlier resourceVersion now get 410 Gone. */
  compact(): void {
    this._history = [];
    this._oldestRv = this._rv + 1;
  }

  /** Ends every open watch cleanly (a server-side timeout). */
  closeWatches(): void {
    for (const watch of this._watches) watch.res.end();
    this._watches.clear();
  }

  /** Destroys every open watch connection (a network failure). */
  breakWatches(): void {
    for (const watch of this._watches) watch.res.socket?.destroy();
    this._watches.clear();
  }

  /** While down, every request's connection is reset and open watches are broken. */
  setDown(down: boolean): void {
    this._down = down;
    if (down) this.breakWatches();
  }

  async close(): Promise<void> {
    for (const socket of this._sockets) socket.destroy();
    this._server.close();
    await once(this._server, 'close');
  }

  private _publish(event: HistoryEvent): void {
    this._history.push(event);
    for (const watch of this._watches) {
      if (matchesNode(event.pod, watch.node)) writeEvent(watch.res, event.type, event.pod);
    }
  }

  private _handle(req: IncomingMessage, res: ServerResponse): void {
    if (this._down) {
      this.counts.refused++;
      req.socket.destroy();
      return;
    }
    this.authorizations.push(req.headers.authorization ?? '');
    const url = new URL(req.url ?? '/', this.url);
    const nodeMatch = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && nodeMatch?.[1] !== undefined) {
      this.counts.node++;
      const name = decodeURIComponent(nodeMatch[1]);
      if (this._nodes.has(name)) json(res, 200, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
      else json(res, 404, status(404, 'NotFound', `nodes "${name}" not found`));
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/api/v1/pods') {
      json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const node = nodeOfSelector(url.searchParams.get('fieldSelector'));
    if (url.searchParams.get('watch') === 'true') this._watch(url, node, res);
    else this._list(node, res);
  }

  private _list(node: string | undefined, res: ServerResponse): void {
    this.counts.list++;
    const items = [...this._pods.values()].filter((pod) => matchesNode(pod, node));
    json(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: String(this._rv) }, items });
  }

  private _watch(url: URL, node: string | undefined, res: ServerResponse): void {
    this.counts.watch++;
    const from = Number(url.searchParams.get('resourceVersion') ?? '') || this._rv;
    if (from < this._oldestRv - 1) {
      this.counts.gone++;
      const gone = status(410, 'Expired', `too old resource version: ${from} (${this._oldestRv})`);
      if (this.goneMode === 'status') {
        json(res, 410, gone);
      } else {
        // What the API server does: a 200 stream carrying one ERROR event, then the end.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
      }
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    for (const event of this._history) {
      if (event.rv > from && matchesNode(event.pod, node)) writeEvent(res, event.type, event.pod);
    }
    const watch: OpenWatch = { res, node };
    this._watches.add(watch);
    res.on('close', () => this._watches.delete(watch));
  }
}

function keyOf(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function nodeOfSelector(selector: string | null): string | undefined {
  const match = /(?:^|,)spec\.nodeName=([^,]*)/.exec(selector ?? '');
  return match?.[1];
}

function matchesNode(pod: V1Pod, node: string | undefined): boolean {
  return node === undefined || pod.spec?.nodeName === node;
}

function writeEvent(res: ServerResponse, type: string, pod: V1Pod): void {
  res.write(`${JSON.stringify({ type, object: pod })}\n`);
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Status', status: 'Failure', code, reason, message, metadata: {} };
}
