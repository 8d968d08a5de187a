// A grpc-js client of our own inference.proto (GRPCInferenceService), for
// the tests and benchmarks that drive the gRPC front end from TypeScript.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { findPackageRoot } from '../../common/package-root';

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

export interface InferenceClient extends grpc.Client {
  ModelInfer(request: unknown, callback: (err: grpc.ServiceError | null, res: unknown) => void): grpc.ClientUnaryCall;
  ModelStreamInfer(): grpc.ClientDuplexStream<unknown, StreamAnswer>;
}

export function inferenceClient(port: number): InferenceClient {
  const root = findPackageRoot(__dirname) as string;
  const pkg = loadSync(join(root, 'gateway', 'grpc', 'inference.proto'), { keepCase: true, longs: Number });
  const service = grpc.loadPackageDefinition(pkg).inference as unknown as Record<string, grpc.ServiceClientConstructor>;
  return new service.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  }) as unknown as InferenceClient;
}
