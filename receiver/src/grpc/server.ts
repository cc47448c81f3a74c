// receiver/src/grpc/server.ts
// The tetragon.FineGuidanceSensors gRPC server: GetEvents streams, GetHealth and GetVersion.

import { chmod, lstat, mkdir, mkdtemp, rename, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { ExportError, FilterError, getErrorCode, getErrorMessage } from '../errors.js';
import { compileFilterLists } from '../filter/event-filter.js';
import { FieldFilterChain } from '../filter/field-filter.js';
import { RateLimitedWarner, type Logger } from '../logger.js';
import type { MetricsRegistry } from '../metrics.js';
import { loadTetragonProto, type TetragonProto } from '../proto/load.js';
import type { GetEventsRequestMsg, GetEventsResponseMsg } from '../proto/messages.js';
import type { ServerAddress } from './address.js';
import type { ServerTls } from './tls.js';
import { EventStream, type ResponseSerializer, type ResponseWriter } from './event-stream.js';
import { GrpcFanoutSink } from './fanout-sink.js';

/** Default --event-queue-size, as in Tetragon. */
export const DEFAULT_EVENT_QUEUE_SIZE = 10_000;

/**
 * Mode of the unix socket: owner and group. Events carry argv and environment values, so never world;
 * group access lets an operator grant `getevents` to a group (chgrp) without root, as docker.sock does.
 */
export const UNIX_SOCKET_MODE = 0o660;

/** sun_path holds 108 bytes with the terminating NUL. */
const MAX_UNIX_PATH = 107;

export interface GrpcServerOptions {
  readonly address: ServerAddress;
  /** Events held per GetEvents client before new ones are dropped. */
  readonly eventQueueSize: number;
  /** Reported by GetVersion. */
  readonly version: string;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Preloaded .proto definitions (tests share one); loaded from disk when absent. */
  readonly proto?: TetragonProto;
  /** TLS or mutual TLS (loadServerTls); plaintext when absent. */
  readonly tls?: ServerTls;
}

/**
 * The service definition with a response serializer that passes pre-encoded Buffers through, so one encoding
 * of an event can be written to many streams.
 */
function withSharedEncoding(service: ServiceDefinition): { service: ServiceDefinition; serialize: ResponseSerializer } {
  const getEvents = service['GetEvents'];
  if (getEvents === undefined) throw new Error('FineGuidanceSensors has no GetEvents method');
  const original = getEvents.responseSerialize as (value: GetEventsResponseMsg) => Buffer;
  return {
    service: { ...service, GetEvents: { ...getEvents, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : original(value as GetEventsResponseMsg)) } },
    serialize: original,
  };
}

/** grpc-js's per-call object under ServerWritableStream (not part of its typings). */
interface InterceptingCall {
  sendMessage(message: Buffer, callback: () => void): void;
}

/**
 * How messages reach a call. ServerWritableStream is a Node Writable that hands grpc-js one message at a time
 * and waits for the HTTP/2 write callback before the next, which caps a stream at a few messages per
 * event-loop turn. grpc-js's underlying call accepts overlapping sendMessage calls (the HTTP/2 stream
 * buffers and orders them, and end() still sends the status after them), which is 2-4x faster; we use it
 * when present (grpc-js is pinned) and fall back to the public Writable otherwise.
 */
function responseWriterFor(call: ServerWritableStream<GetEventsRequestMsg, Buffer>): ResponseWriter {
  const inner = (call as unknown as { call?: Partial<InterceptingCall> }).call;
  if (inner !== undefined && typeof inner.sendMessage === 'function') {
    const send = inner.sendMessage.bind(inner);
    return { write: (chunk, done) => send(chunk, done), end: () => call.end() };
  }
  return { write: (chunk, done) => void call.write(chunk, () => done()), end: () => call.end() };
}

/** Binds, accepts clients and feeds them from `sink`. Create with `GrpcEventServer.start`. */
export class GrpcEventServer {
  private _nextStreamId = 1;
  private _closed = false;

  private constructor(
    private readonly _server: Server,
    /** The fan-out sink the agent writes events to. */
    readonly sink: GrpcFanoutSink,
    /** The address bound, with the real port when 0 was asked for (e.g. "localhost:41234" or "unix:///run/x.sock"). */
    readonly boundTarget: string,
    /** The TCP port bound, 0 for a unix socket. */
    readonly port: number,
    private readonly _address: ServerAddress,
    private readonly _logger: Logger,
  ) {}

  /** Starts listening. Throws ExportError when the address cannot be bound (in use, no permission). */
  static async start(options: GrpcServerOptions): Promise<GrpcEventServer> {
    const proto = options.proto ?? loadTetragonProto();
    const { service, serialize } = withSharedEncoding(proto.service);
    const server = new Server({ 'grpc.max_concurrent_streams': 1000 });
    const sink = new GrpcFanoutSink(serialize);
    const { address, logger, metrics } = options;

    // Methods are in place before the first client can connect; until start returns they answer "starting".
    let instance: GrpcEventServer | undefined;

    const streams = metrics.gauge('execscope_grpc_streams', 'Open GetEvents streams.').onCollect(() => streams.set(sink.streams.size));
    const dropped = metrics.counter('execscope_grpc_stream_dropped_events_total', 'Events dropped because a GetEvents client queue (--event-queue-size) was full.');
    const sent = metrics.counter('execscope_grpc_events_sent_total', 'Events handed to GetEvents streams.');
    const rejected = metrics.counter('execscope_grpc_requests_rejected_total', 'GetEvents requests refused for invalid filters.');
    const warner = new RateLimitedWarner(logger);

    const implementation: UntypedServiceImplementation = {
      GetEvents: (call: ServerWritableStream<GetEventsRequestMsg, Buffer>) => {
        if (instance === undefined) call.emit('error', { code: status.UNAVAILABLE, details: 'the agent is starting' });
        else instance._getEvents(call, options.eventQueueSize, serialize, { dropped, sent, rejected, warner });
      },
      GetHealth: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const [state, details] = instance === undefined ? ['HEALTH_STATUS_STOPPED', 'starting'] : instance._closed ? ['HEALTH_STATUS_STOPPED', 'stopping'] : ['HEALTH_STATUS_RUNNING', 'running'];
        callback(null, { health_status: [{ event: 'HEALTH_STATUS_TYPE_STATUS', status: state, details }] });
      },
      GetVersion: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        callback(null, { version: options.version });
      },
    };
    server.addService(service, implementation);

    const serverCredentials = options.tls?.credentials ?? ServerCredentials.createInsecure();
    const bind = (target: string): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        server.bindAsync(target, serverCredentials, (error, boundPort) => (error !== null ? reject(error) : resolve(boundPort)));
      }).catch((error: unknown) => {
        throw new ExportError(`gRPC server: cannot listen on ${address.target}: ${getErrorMessage(error)}`, { cause: error });
      });
    let port: number;
    try {
      port = address.kind === 'unix' ? await bindUnixSocket(address.path, bind) : await bind(address.target);
    } catch (error: unknown) {
      // A listener bound before the failure would keep the process alive.
      server.forceShutdown();
      throw error;
    }
    const boundTarget = address.kind === 'unix' ? address.target : `${address.host.includes(':') ? `[${address.host}]` : address.host}:${port}`;
    instance = new GrpcEventServer(server, sink, boundTarget, address.kind === 'tcp' ? port : 0, address, logger);
    logger.info('gRPC server: listening', { 'server.address': boundTarget, 'server.tls': options.tls === undefined ? 'off' : options.tls.mutual ? 'mutual' : 'on' });
    return instance;
  }

  private _getEvents(
    call: ServerWritableStream<GetEventsRequestMsg, Buffer>,
    queueSize: number,
    serialize: ResponseSerializer,
    m: { dropped: { inc(): void }; sent: { inc(): void }; rejected: { inc(): void }; warner: RateLimitedWarner },
  ): void {
    const peer = call.getPeer();
    if (this._closed) {
      call.emit('error', { code: status.UNAVAILABLE, details: 'the agent is shutting down' });
      return;
    }
    const request = call.request;
    let predicate;
    let fieldFilters;
    try {
      predicate = compileFilterLists(request.allow_list ?? [], request.deny_list ?? []);
      fieldFilters = FieldFilterChain.compile(request.field_filters ?? []);
    } catch (error: unknown) {
      const invalid = error instanceof FilterError;
      if (invalid) m.rejected.inc();
      this._logger.info('gRPC server: GetEvents refused', { 'client.address': peer, 'error.message': getErrorMessage(error) });
      call.emit('error', { code: invalid ? status.INVALID_ARGUMENT : status.INTERNAL, details: getErrorMessage(error) });
      return;
    }
    const id = this._nextStreamId++;
    const stream = new EventStream(responseWriterFor(call), {
      id,
      peer,
      queueSize,
      predicate,
      fieldFilters,
      serialize,
      onDrop: (s) => {
        m.dropped.inc();
        // One key for all streams: the warner keeps a map entry per key for good.
        m.warner.warn('grpc-drop', 'gRPC server: GetEvents client is not keeping up, dropping events', {
          'client.address': s.peer,
          'stream.id': s.id,
          'stream.dropped_total': s.dropped,
          'stream.queue_size': queueSize,
        });
      },
      onSent: () => m.sent.inc(),
      onError: (s, error) => this._logger.error('gRPC server: cannot encode event', { 'stream.id': s.id, 'error.message': getErrorMessage(error) }),
    });
    this.sink.add(stream);
    this._logger.debug('gRPC server: GetEvents stream opened', { 'client.address': peer, 'stream.id': id });
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.sink.remove(stream);
      stream.detach();
      this._logger.debug('gRPC server: GetEvents stream closed', { 'client.address': peer, 'stream.id': id, 'stream.sent': stream.sent, 'stream.dropped': stream.dropped });
    };
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('finish', finish);
  }

  /** Ends every stream, stops accepting, and waits up to timeoutMs before forcing connections closed. */
  async close(timeoutMs: number): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    await this.sink.close(Math.min(timeoutMs, 1000));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this._server.forceShutdown();
        resolve();
      }, timeoutMs);
      timer.unref();
      this._server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (this._address.kind === 'unix') await unlink(this._address.path).catch(() => undefined);
    this._logger.info('gRPC server: stopped', { 'server.address': this.boundTarget });
  }
}

/**
 * Binds a unix socket that is never reachable with a wider mode than UNIX_SOCKET_MODE: the socket is created
 * in a fresh 0700 directory next to its final path, chmod-ed there, then renamed into place (binding in place
 * and chmod-ing after would leave a window with the umask's mode).
 */
async function bindUnixSocket(socketPath: string, bind: (target: string) => Promise<number>): Promise<number> {
  await prepareSocketPath(socketPath);
  const privateDir = await mkdtemp(path.join(path.dirname(socketPath), '.execscope-'));
  const staged = path.join(privateDir, 's');
  try {
    if (Buffer.byteLength(staged) > MAX_UNIX_PATH) {
      // No room for the staging directory in sun_path: bind in place and narrow the mode at once.
      const port = await bind(`unix://${socketPath}`);
      await chmod(socketPath, UNIX_SOCKET_MODE);
      return port;
    }
    const port = await bind(`unix://${staged}`);
    await chmod(staged, UNIX_SOCKET_MODE);
    await rename(staged, socketPath);
    return port;
  } finally {
    await unlink(staged).catch(() => undefined);
    await rmdir(privateDir).catch(() => undefined);
  }
}

/** Creates the socket's directory and removes a stale socket left by a previous run (never a regular file). */
async function prepareSocketPath(socketPath: string): Promise<void> {
  await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  try {
    const stat = await lstat(socketPath);
    if (!stat.isSocket()) throw new ExportError(`gRPC server: ${socketPath} exists and is not a socket; refusing to replace it`);
    await unlink(socketPath);
  } catch (error: unknown) {
    if (getErrorCode(error) !== 'ENOENT') throw error;
  }
}
