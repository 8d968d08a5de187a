// The gRPC front end's server (docs/grpc.md): grpc-js on its own port
// (default 8001, as Triton; 0 = ephemeral), serving GRPCInferenceService
// and grpc.health.v1.Health. Owner of the listening socket and every gRPC
// call: close() stops taking calls, lets running ones finish until the
// deadline, then cuts what is left.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { GrpcDeps } from './calls';
import { loadProtos } from './proto';
import { healthService, inferenceService } from './service';

export const DEFAULT_GRPC_PORT = 8001;

export interface GrpcServerOptions {
  maxMessageBytes: number; // largest request accepted (the HTTP body limit); larger: RESOURCE_EXHAUSTED
}

export interface RunningGrpcServer {
  port: number;
  close(deadlineMs: number): Promise<void>;
}

export type GrpcFrontEndDeps = Omit<GrpcDeps, 'isClosing'>;

export async function startGrpcServer(
  deps: GrpcFrontEndDeps,
  host: string,
  port: number,
  options: GrpcServerOptions,
): Promise<RunningGrpcServer> {
  let closing = false;
  const full: GrpcDeps = { ...deps, isClosing: () => closing };
  const protos = loadProtos();
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': -1,
  });
  server.addService(protos.inference, inferenceService(full));
  server.addService(protos.health, healthService(full));
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  let closed: Promise<void> | undefined;
  return {
    port: boundPort,
    close(deadlineMs) {
      closing = true;
      closed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            server.forceShutdown();
            resolve();
          },
          Math.max(0, deadlineMs),
        );
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closed;
    },
  };
}
