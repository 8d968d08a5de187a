// Completes a checked model config from the engine's metadata the way
// Triton's auto-complete does: inputs and outputs come from the ONNX graph,
// and the batch dimension is split off when max_batch_size >= 1.
import { MaasError } from '../../common/errors';
import type { TensorMetadata as EngineTensorMetadata } from '../../native/types';
import type { ModelConfig, TensorConfig } from '../catalog/config-types';
import { kserveFromEngineType, type KServeDatatype } from '../inference/datatypes';
import type { TensorMetadata } from '../inference/model-types';

function fail(modelName: string, message: string): never {
  throw new MaasError('INVALID_REQUEST', `model '${modelName}': invalid config.json: ${message}`);
}

// Triton's config enum names: TYPE_FP32 etc. (BYTES is TYPE_STRING).
export function configTypeFromDatatype(datatype: KServeDatatype): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

function toTensorConfigs(
  modelName: string,
  tensors: EngineTensorMetadata[],
  batching: boolean,
): { config: TensorConfig[]; metadata: TensorMetadata[] } {
  const config: TensorConfig[] = [];
  const metadata: TensorMetadata[] = [];
  for (const t of tensors) {
    const datatype = kserveFromEngineType(t.type);
    let dims = t.dims.slice();
    if (batching) {
      if (dims.length === 0) fail(modelName, `max_batch_size >= 1 but '${t.name}' has no batch dimension`);
      if (dims[0] !== -1)
        fail(modelName, `max_batch_size >= 1 but the first dimension of '${t.name}' is fixed at ${dims[0]}`);
      dims = dims.slice(1);
    }
    config.push({ name: t.name, data_type: configTypeFromDatatype(datatype), dims });
    metadata.push({ name: t.name, datatype, shape: batching ? [-1, ...dims] : dims });
  }
  return { config, metadata };
}

// Fills config.input/output from the engine's metadata and returns the
// protocol metadata (with the leading -1 batch dimension when batching).
export function completeConfig(
  config: ModelConfig,
  inputs: EngineTensorMetadata[],
  outputs: EngineTensorMetadata[],
): {
  config: ModelConfig;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
} {
  const batching = config.max_batch_size >= 1;
  const i = toTensorConfigs(config.name, inputs, batching);
  const o = toTensorConfigs(config.name, outputs, batching);
  return { config: { ...config, input: i.config, output: o.config }, inputs: i.metadata, outputs: o.metadata };
}
