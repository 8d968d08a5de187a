// Loads the gateway's .proto files (inference.proto, health.proto beside
// this module's sources) into grpc-js service definitions. Two changes to
// what @grpc/proto-loader generates:
// - request deserializers never throw: a malformed message becomes a
//   MalformedMessage, so the handler answers INVALID_ARGUMENT with our
//   error code (grpc-js itself would answer a bare INTERNAL), and on a
//   stream the error goes into `error_message` with the stream kept open;
// - inference answers are encoded straight from plain objects (no
//   fromObject copy per answer): the codec builds them with the right types.
import { join } from 'node:path';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type ServiceDefinition as LoaderService } from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import { findPackageRoot } from '../../common/package-root';

export class MalformedMessage {
  constructor(readonly reason: string) {}
}

// int64 fields arrive as decimal strings (no precision lost); the codec
// turns shapes into numbers and INT64/UINT64 contents into BigInts.
const LOADER_OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true };

export interface GatewayProtos {
  inference: ServiceDefinition;
  health: ServiceDefinition;
}

function protoDir(): string {
  const root = findPackageRoot(__dirname);
  if (!root) throw new Error(`no package.json above ${__dirname}`);
  return join(root, 'gateway', 'grpc');
}

// Types whose answers are encoded directly (see the file comment).
const DIRECT_ENCODE = new Set(['ModelInferResponse', 'ModelStreamInferResponse']);

export function loadProtos(): GatewayProtos {
  const dir = protoDir();
  const inferencePath = join(dir, 'inference.proto');
  const healthPath = join(dir, 'health.proto');
  const pkg = loadSync([inferencePath, healthPath], LOADER_OPTIONS);
  const root = new protobuf.Root();
  root.loadSync([inferencePath, healthPath], { keepCase: true });
  const inference = harden(pkg['inference.GRPCInferenceService'] as LoaderService, root, 'inference');
  const health = harden(pkg['grpc.health.v1.Health'] as LoaderService, root, 'grpc.health.v1');
  return { inference, health };
}

function harden(service: LoaderService, root: protobuf.Root, namespace: string): ServiceDefinition {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    const requestDeserialize = method.requestDeserialize;
    let responseSerialize = method.responseSerialize;
    const responseName = (method.responseType.type as { name: string }).name;
    if (DIRECT_ENCODE.has(responseName)) {
      const type = root.lookupType(`${namespace}.${responseName}`);
      responseSerialize = (value: unknown) => Buffer.from(type.encode(value as protobuf.Message).finish());
    }
    out[name] = {
      ...method,
      requestDeserialize(bytes: Buffer): unknown {
        try {
          return requestDeserialize(bytes);
        } catch (err) {
          return new MalformedMessage(err instanceof Error ? err.message : String(err));
        }
      },
      responseSerialize,
    };
  }
  return out as ServiceDefinition;
}
