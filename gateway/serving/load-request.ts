// The parameters of a repository load (Triton's `config`; `file:` overrides
// refused: models come from the catalog), as HTTP's JSON object or gRPC's
// ModelRepositoryParameter map hand them over (docs/protocol.md "Model
// repository").
import { MaasError } from '../../common/errors';
import type { LoadRequest } from './types';

export function readLoadParameters(parameters: unknown): LoadRequest {
  if (parameters === undefined) return {};
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new MaasError('INVALID_PARAMETER', "'parameters' must be an object");
  }
  const request: LoadRequest = {};
  for (const [key, value] of Object.entries(parameters)) {
    if (key === 'config') {
      if (typeof value !== 'string')
        throw new MaasError(
          'INVALID_PARAMETER',
          "the 'config' parameter must be a string holding the model configuration as JSON",
        );
      request.configJson = value;
    } else if (key.startsWith('file:')) {
      throw new MaasError(
        'INVALID_PARAMETER',
        `'${key}': loading model files through the repository API is not supported; put them in the model repository`,
      );
    } else {
      throw new MaasError('INVALID_PARAMETER', `unknown load parameter '${key}'`);
    }
  }
  return request;
}
