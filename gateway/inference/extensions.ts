// The protocol extensions this server really implements, in Triton's order
// (docs/protocol.md "Server metadata"): what server metadata reports on
// HTTP and gRPC alike.
export const SERVER_EXTENSIONS: readonly string[] = [
  'model_repository',
  'schedule_policy',
  'model_configuration',
  'binary_tensor_data',
  'parameters',
  'statistics',
];
