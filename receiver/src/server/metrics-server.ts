// receiver/src/server/metrics-server.ts
// Serves Prometheus /metrics and the /healthz and /readyz probes.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from '../metrics.js';

export interface HealthState {
  /** True once the programs are attached and the /proc seed is done. */
  ready(): boolean;
  /** False when the sensor stopped delivering (e.g. poll thread gone). */
  healthy(): boolean;
}

export class MetricsServer {
  private readonly _server: Server;
  constructor(
    private readonly _metrics: MetricsRegistry,
    private readonly _health: HealthState,
  ) {
    this._server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(this._metrics.render());
      } else if (path === '/healthz') {
        const ok = this._health.healthy();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
        res.end(ok ? 'ok\n' : 'unhealthy\n');
      } else if (path === '/readyz') {
        const ok = this._health.ready();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
        res.end(ok ? 'ready\n' : 'not ready\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
      }
    });
  }

  /** Listens on host:port; resolves with the bound address (port 0 picks a free one). */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this._server.once('error', reject);
      this._server.listen(port, host, () => {
        this._server.off('error', reject);
        resolve(this._server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this._server.close(() => resolve()));
  }
}

/** Parses "host:port", ":port" or "[v6]:port"; a bare ":port" means localhost (never all interfaces by accident). */
export function parseListenAddress(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? (m[2] === '' || m[2] === undefined ? '127.0.0.1' : m[2]);
  // A host name or an address, nothing else (a space or a slash is a typo that would fail late, at bind).
  if (!/^[A-Za-z0-9._:%-]+$/.test(host)) return undefined;
  return { host, port };
}
