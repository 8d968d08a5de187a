// A gRPC client of our own inference.proto for tests (grpc-js's generic
// client, which we did not write): the same service definition tritonclient
// uses, loaded at run time.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { findPackageRoot } from '../../common/package-root';

type Callback = (err: grpc.ServiceError | null, response?: InferResponse) => void;

export interface InferResponse {
  model_name: string;
  outputs: Array<{ name: string; datatype: string; shape: string[] }>;
  raw_output_contents: Buffer[];
}

export interface GrpcClient extends grpc.Client {
  ModelInfer(request: unknown, callback: Callback): grpc.ClientUnaryCall;
  ModelInfer(request: unknown, metadata: grpc.Metadata, callback: Callback): grpc.ClientUnaryCall;
  ModelMetadata(
    request: { name: string },
    metadata: grpc.Metadata,
    callback: (err: grpc.ServiceError | null, response?: { name: string }) => void,
  ): grpc.ClientUnaryCall;
}

export function grpcClient(port: number): GrpcClient {
  const root = findPackageRoot(__dirname) as string;
  const pkg = loadSync(join(root, 'gateway', 'grpc', 'inference.proto'), { keepCase: true });
  const service = grpc.loadPackageDefinition(pkg).inference as unknown as Record<string, grpc.ServiceClientConstructor>;
  return new service.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  }) as unknown as GrpcClient;
}

// ModelInfer with optional metadata: the answer, or the error as a value.
export function grpcInferCall(
  client: GrpcClient,
  request: unknown,
  metadata = new grpc.Metadata(),
): Promise<{ err: grpc.ServiceError | null; response?: InferResponse }> {
  return new Promise((resolve) => client.ModelInfer(request, metadata, (err, response) => resolve({ err, response })));
}
