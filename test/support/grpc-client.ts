// grpc-js clients of our own inference.proto (GRPCInferenceService) for the
// tests that drive the gRPC front end from TypeScript: grpc-js's generic
// client (which we did not write), loaded at run time from the same service
// definition tritonclient uses.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { findPackageRoot } from '../../common/package-root';

type Callback = (err: grpc.ServiceError | null, response?: InferResponse) => void;

export interface InferResponse {
  model_name: string;
  outputs: Array<{ name: string; datatype: string; shape: string[] }>;
  raw_output_contents: Buffer[];
}

// int64 fields as strings (proto-loader's default): what a careful client sees.
export interface GrpcClient extends grpc.Client {
  ModelInfer(request: unknown, callback: Callback): grpc.ClientUnaryCall;
  ModelInfer(request: unknown, metadata: grpc.Metadata, callback: Callback): grpc.ClientUnaryCall;
  ModelMetadata(
    request: { name: string },
    metadata: grpc.Metadata,
    callback: (err: grpc.ServiceError | null, response?: { name: string }) => void,
  ): grpc.ClientUnaryCall;
}

export interface StreamAnswer {
  error_message: string;
  infer_response: {
    id: string;
    model_name: string;
    outputs: Array<{ name: string; datatype: string; shape: number[] }>;
    raw_output_contents: Buffer[];
    parameters: Record<string, { bool_param?: boolean }>;
  };
}

// int64 fields as numbers, for the streaming tests.
export interface InferenceClient extends grpc.Client {
  ModelInfer(request: unknown, callback: (err: grpc.ServiceError | null, res: unknown) => void): grpc.ClientUnaryCall;
  ModelStreamInfer(): grpc.ClientDuplexStream<unknown, StreamAnswer>;
}

function serviceClient(port: number, options: Options): grpc.Client {
  const root = findPackageRoot(__dirname) as string;
  const pkg = loadSync(join(root, 'gateway', 'grpc', 'inference.proto'), { keepCase: true, ...options });
  const service = grpc.loadPackageDefinition(pkg).inference as unknown as Record<string, grpc.ServiceClientConstructor>;
  return new service.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  });
}

export function grpcClient(port: number): GrpcClient {
  return serviceClient(port, {}) as GrpcClient;
}

export function inferenceClient(port: number): InferenceClient {
  return serviceClient(port, { longs: Number }) as InferenceClient;
}

// ModelInfer with optional metadata: the answer, or the error as a value.
export function grpcInferCall(
  client: GrpcClient,
  request: unknown,
  metadata = new grpc.Metadata(),
): Promise<{ err: grpc.ServiceError | null; response?: InferResponse }> {
  return new Promise((resolve) => client.ModelInfer(request, metadata, (err, response) => resolve({ err, response })));
}
