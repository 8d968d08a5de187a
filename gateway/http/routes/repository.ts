// Triton's model repository extension (docs/protocol.md "Model
// repository"): POST /v2/repository/index, .../models/{m}/load, .../unload.
import { MaasError } from '../../../common/errors';
import type { LoadRequest } from '../../serving/types';
import { readBody } from '../body';
import type { Exchange, HttpFrontEnd } from '../exchange';
import { readJson } from '../kserve/json-reader';
import type { RequestHead } from '../request-head';

const MAX_INDEX_BODY_BYTES = 64 * 1024; // {"ready": bool}
const MAX_LOAD_BODY_BYTES = 4 * 1024 * 1024; // {"parameters": {"config": "..."}}

export type RepositoryRoute = 'repository_index' | 'repository_load' | 'repository_unload';

export function startRepositoryRoute(
  fe: HttpFrontEnd,
  ex: Exchange,
  head: RequestHead,
  route: RepositoryRoute,
  model?: string,
): void {
  const admitted = fe.begin(ex, head, route, model);
  const limit = Math.min(fe.maxBodyBytes, route === 'repository_load' ? MAX_LOAD_BODY_BYTES : MAX_INDEX_BODY_BYTES);
  const body = readBody(ex.responder, fe.bodyOptions(head, limit));
  void answer(fe, ex, route, admitted, body, model);
}

async function answer(
  fe: HttpFrontEnd,
  ex: Exchange,
  route: RepositoryRoute,
  admitted: void | Promise<void>,
  bodyPromise: Promise<Buffer>,
  model?: string,
): Promise<void> {
  const { repository } = fe.deps;
  try {
    if (admitted) await admitted;
    const body = readObject(await bodyPromise);
    if (route === 'repository_index') {
      const ready = body.ready;
      if (ready !== undefined && typeof ready !== 'boolean')
        throw new MaasError('INVALID_REQUEST', "'ready' must be a boolean");
      fe.sendJson(ex, 200, await repository.index(ready === true));
      return;
    }
    if (route === 'repository_load') await repository.load(model as string, loadRequest(body));
    else await repository.unload(model as string);
    ex.responder.send(200, fe.baseHeaders(ex));
    fe.succeed(ex);
  } catch (err) {
    fe.sendError(ex, err);
  }
}

// The body is empty or a JSON object (bounded like every body: json-reader.ts).
function readObject(body: Buffer): Record<string, unknown> {
  if (body.byteLength === 0) return {};
  const parsed = readJson(body);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MaasError('INVALID_REQUEST', 'the request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

// {"parameters": {"config": "<ModelConfig JSON>"}}; file overrides are
// refused (models come from the catalog).
function loadRequest(body: Record<string, unknown>): LoadRequest {
  const parameters = body.parameters;
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
