// Routes answered from the serving layer's synchronous state: server
// metadata, model metadata, config, readiness and statistics.
import { MaasError } from '../../../common/errors';
import type { Exchange, HttpFrontEnd } from '../exchange';
import type { RequestHead } from '../request-head';
import type { RouteName } from '../router';

// Only what this front end really implements (docs/protocol.md "Server
// metadata", Triton's order).
export const EXTENSIONS = [
  'model_repository',
  'schedule_policy',
  'model_configuration',
  'binary_tensor_data',
  'parameters',
  'statistics',
];

export type ModelRoute = 'server_metadata' | 'model_metadata' | 'model_config' | 'model_ready' | 'model_stats';

export function isModelRoute(route: RouteName): route is ModelRoute {
  return (
    route === 'server_metadata' ||
    route === 'model_metadata' ||
    route === 'model_config' ||
    route === 'model_ready' ||
    route === 'model_stats'
  );
}

export function answerModelRoute(
  fe: HttpFrontEnd,
  ex: Exchange,
  head: RequestHead,
  route: ModelRoute,
  model?: string,
  version?: string,
): void {
  const admitted = fe.begin(ex, head, route, model, version);
  if (admitted) {
    admitted.then(
      () => answer(fe, ex, route, model, version),
      (err) => fe.sendError(ex, err),
    );
    return;
  }
  answer(fe, ex, route, model, version);
}

function answer(fe: HttpFrontEnd, ex: Exchange, route: ModelRoute, model?: string, version?: string): void {
  const { serving, serverName, serverVersion } = fe.deps;
  try {
    switch (route) {
      case 'server_metadata':
        fe.sendJson(ex, 200, { name: serverName ?? 'maas', version: serverVersion ?? '0.0.0', extensions: EXTENSIONS });
        return;
      case 'model_ready':
        if (!serving.isModelReady(model as string, version))
          throw new MaasError('MODEL_NOT_READY', 'Model version not ready');
        ex.responder.send(200, fe.baseHeaders(ex));
        fe.succeed(ex);
        return;
      case 'model_metadata':
        fe.sendJson(ex, 200, serving.metadata(model as string, version));
        return;
      case 'model_config':
        fe.sendJson(ex, 200, serving.config(model as string, version));
        return;
      case 'model_stats':
        fe.sendJson(ex, 200, { model_stats: serving.statistics(model, version) });
        return;
    }
  } catch (err) {
    fe.sendError(ex, err);
  }
}
