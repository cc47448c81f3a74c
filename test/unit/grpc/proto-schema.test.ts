// test/unit/grpc/proto-schema.test.ts
// Drift checks: the TS schema that drives protojson matches our .proto files, and the agent feature wires up.

import { Command } from 'commander';
import test from 'ava';
import { grpcFeature } from '../../../receiver/src/cli/features/grpc-feature.js';
import { ConfigError } from '../../../receiver/src/errors.js';
import { silentLogger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import { loadTetragonProto, protoDirectory } from '../../../receiver/src/proto/load.js';
import { ENUMS, MESSAGES, type FieldSchema } from '../../../receiver/src/proto/schema.js';

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}
interface MessageDescriptor {
  field: FieldDescriptor[];
  reservedRange: { start: number; end: number }[];
  reservedName: string[];
}

const { packageDefinition } = loadTetragonProto();

function descriptor(name: string): MessageDescriptor {
  const def = packageDefinition[name] as { type?: MessageDescriptor } | undefined;
  if (def?.type === undefined) throw new Error(`${name} not in the .proto files`);
  return def.type;
}

function expectedType(f: FieldSchema): [string, string] {
  switch (f.type) {
    case 'string':
      return ['TYPE_STRING', ''];
    case 'bool':
      return ['TYPE_BOOL', ''];
    case 'uint32':
      return ['TYPE_UINT32', ''];
    case 'int32':
      return ['TYPE_INT32', ''];
    case 'uint64':
      return ['TYPE_UINT64', ''];
    case 'enum':
      return ['TYPE_ENUM', f.ref ?? ''];
    case 'message':
      return ['TYPE_MESSAGE', f.ref ?? ''];
    case 'map':
      return ['TYPE_MESSAGE', '']; // the entry type's name is protobufjs's own invention
    default:
      return ['TYPE_MESSAGE', `google.protobuf.${f.type}`];
  }
}

test('every schema message has the .proto fields, in declaration order, with the same numbers and types', (t) => {
  for (const schema of Object.values(MESSAGES)) {
    const fields = descriptor(`tetragon.${schema.name}`).field;
    t.deepEqual(fields.map((f) => [f.name, f.number]), schema.fields.map((f) => [f.name, f.number]), schema.name);
    for (const [i, f] of schema.fields.entries()) {
      const d = fields[i];
      const [type, typeName] = expectedType(f);
      t.is(d?.type, type, `${schema.name}.${f.name}`);
      t.true((d?.typeName ?? '').endsWith(typeName), `${schema.name}.${f.name}: ${d?.typeName ?? ''}`);
      t.is(d?.label, f.repeated === true || f.type === 'map' ? 'LABEL_REPEATED' : 'LABEL_OPTIONAL', `${schema.name}.${f.name}`);
    }
  }
});

test('Tetragon-only Process fields are reserved, by number and name', (t) => {
  const process = descriptor('tetragon.Process');
  t.deepEqual(process.reservedName.sort(), [...(MESSAGES['Process']?.absent ?? [])].sort());
  // protobufjs reports reserved ranges with an inclusive end.
  const reserved = process.reservedRange.flatMap((r) => Array.from({ length: r.end - r.start + 1 }, (_, i) => r.start + i));
  t.deepEqual(reserved.sort((a, b) => a - b), [14, 15, 17, 18, 19]);
});

test('enum values match', (t) => {
  for (const [name, values] of Object.entries(ENUMS)) {
    const def = packageDefinition[`tetragon.${name}`] as { type?: { value: { name: string; number: number }[] } } | undefined;
    t.deepEqual(Object.fromEntries((def?.type?.value ?? []).map((v) => [v.name, v.number])), values, name);
  }
});

test('the .proto files are found from the compiled module (source tree fallback)', (t) => {
  t.regex(protoDirectory(), /receiver\/src\/proto$/);
});

test('grpc feature: options, disabled by "", bad queue size, started sink', async (t) => {
  const command = new Command('agent');
  grpcFeature.addOptions(command);
  command.parse(['--server-address', '127.0.0.1:0', '--event-queue-size', '50'], { from: 'user' });
  const tlsDefaults = { serverTlsCertFile: '', serverTlsKeyFile: '', serverTlsClientCaFiles: [], serverAllowInsecureRemote: false };
  t.deepEqual(command.opts(), { serverAddress: '127.0.0.1:0', eventQueueSize: '50', ...tlsDefaults });
  const context = { logger: silentLogger, metrics: new MetricsRegistry(), nodeName: 'n' };
  t.is(await grpcFeature.start({ serverAddress: '', eventQueueSize: '10' }, context), undefined);
  await t.throwsAsync(grpcFeature.start({ serverAddress: '127.0.0.1:0', eventQueueSize: '0' }, context), { instanceOf: ConfigError, message: /--event-queue-size "0"/ });
  await t.throwsAsync(grpcFeature.start({ serverAddress: 'nowhere', eventQueueSize: '10' }, context), { instanceOf: ConfigError, message: /--server-address "nowhere"/ });
  const started = await grpcFeature.start(command.opts(), context);
  t.is(started?.sinks?.length, 1);
  t.is(started?.sinks?.[0]?.name, 'grpc');
  await started?.sinks?.[0]?.close(500);
  await started?.close?.(500);
  const defaults = new Command('agent');
  grpcFeature.addOptions(defaults);
  defaults.parse([], { from: 'user' });
  t.deepEqual(defaults.opts(), { serverAddress: 'localhost:54321', eventQueueSize: '10000', ...tlsDefaults });
});
