// Triton's model repository extension (docs/protocol.md "Model
// repository"): POST /v2/repository/index, .../models/{m}/load, .../unload.
import { MaasError } from '../../../common/errors';
import { readLoadParameters } from '../../serving/load-request';
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
    if (route === 'repository_load') await repository.load(model as string, readLoadParameters(body.parameters));
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
