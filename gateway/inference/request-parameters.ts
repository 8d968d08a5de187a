// Request parameters as every front end reads them (docs/protocol.md
// "Parameters"): the values (string, number, bool) and the reserved names
// the protocol gives a meaning. HTTP reads them from JSON, gRPC from its
// InferParameter map, WebSocket from MessagePack or JSON; all three land here.
import { MaasError } from '../../common/errors';
import type { Parameters } from './types';

// Request-level names the protocol reserves; those we act on are parsed,
// the others (sequences, header forwarding) are refused.
const RESERVED_REQUEST_PARAMETERS = new Set([
  'sequence_id',
  'sequence_start',
  'sequence_end',
  'priority',
  'timeout',
  'headers',
  'binary_data_output',
]);
export const SHARED_MEMORY_PARAMETERS: ReadonlySet<string> = new Set([
  'shared_memory_region',
  'shared_memory_offset',
  'shared_memory_byte_size',
]);

export interface RequestParameters {
  custom: Parameters;
  priority: number;
  timeoutUs: number;
  binaryDataOutput: boolean;
}

export function readRequestParameters(value: unknown): RequestParameters {
  const parameters = readParameters(value, 'request');
  const custom: Parameters = {};
  let priority = 0;
  let timeoutUs = 0;
  let binaryDataOutput = false;
  for (const [key, v] of Object.entries(parameters)) {
    if (!RESERVED_REQUEST_PARAMETERS.has(key)) {
      custom[key] = v;
      continue;
    }
    switch (key) {
      case 'priority':
        if (!isUint(v)) throw badParameter('priority must be a non-negative integer');
        priority = v;
        break;
      case 'timeout':
        if (!isUint(v)) throw badParameter('timeout must be a non-negative integer (microseconds)');
        timeoutUs = v;
        break;
      case 'binary_data_output':
        if (typeof v !== 'boolean') throw badParameter('binary_data_output must be a boolean');
        binaryDataOutput = v;
        break;
      case 'sequence_id':
        // 0 or "" means "not part of a sequence", which is all we serve.
        if (v !== 0 && v !== '') throw badParameter('sequence batching is not supported (sequence_id)');
        break;
      case 'sequence_start':
      case 'sequence_end':
        if (v !== false) throw badParameter(`sequence batching is not supported (${key})`);
        break;
      default:
        throw badParameter(`'${key}' is a reserved parameter name`);
    }
  }
  return { custom, priority, timeoutUs, binaryDataOutput };
}

// Parameters are string/number/bool values; user keys must not start with
// 'triton_' at any level.
export function readParameters(value: unknown, where: string): Parameters {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badParameter(`${where}: parameters must be an object`);
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('triton_')) throw badParameter(`${where}: '${key}' is reserved (names starting with 'triton_')`);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw badParameter(`${where}: parameter '${key}' must be a string, number or boolean`);
    }
  }
  return value as Parameters;
}

export function assertUnique(names: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new MaasError('INVALID_REQUEST', `${what} '${name}' appears more than once`);
    seen.add(name);
  }
}

export function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function badParameter(message: string): MaasError {
  return new MaasError('INVALID_PARAMETER', message);
}
