// Maps (method, path) to a route per PROTOCOL.md 1.1. Pure: no uWS here.
// The model name is any run of characters other than '/' (URL-decoded); the
// version segment is digits only; anything else is 404, and a known path with
// the wrong method is 405.

export type RouteName =
  | 'health_live'
  | 'health_ready'
  | 'server_metadata'
  | 'model_metadata'
  | 'model_ready'
  | 'model_config'
  | 'model_stats'
  | 'infer'
  | 'repository_index'
  | 'metrics';

export type RouteMatch =
  | { kind: 'route'; route: RouteName; model?: string; version?: string }
  | { kind: 'not_found' }
  | { kind: 'method_not_allowed'; allow: 'GET' | 'POST' };

const FIXED: Record<string, RouteName> = {
  '/v2': 'server_metadata',
  '/v2/health/live': 'health_live',
  '/v2/health/ready': 'health_ready',
  '/v2/models/stats': 'model_stats',
  '/v2/repository/index': 'repository_index',
  '/metrics': 'metrics',
};

const MODEL_ACTIONS: Record<string, RouteName> = {
  ready: 'model_ready',
  config: 'model_config',
  stats: 'model_stats',
  infer: 'infer',
};

const POST_ROUTES: ReadonlySet<RouteName> = new Set<RouteName>(['infer', 'repository_index']);
const DIGITS = /^[0-9]+$/;
const MODELS_PREFIX = '/v2/models/';

// `method` in any case; `path` without the query string.
export function matchRoute(method: string, path: string): RouteMatch {
  const found = findRoute(path);
  if (!found) return { kind: 'not_found' };
  const allow = POST_ROUTES.has(found.route) ? 'POST' : 'GET';
  if (method.toUpperCase() !== allow) return { kind: 'method_not_allowed', allow };
  return { kind: 'route', ...found };
}

function findRoute(path: string): { route: RouteName; model?: string; version?: string } | null {
  const fixed = FIXED[path];
  if (fixed) return { route: fixed };
  if (!path.startsWith(MODELS_PREFIX)) return null;
  const segments = path.slice(MODELS_PREFIX.length).split('/');
  const model = decodeSegment(segments[0]);
  if (model === null) return null;
  let rest = segments.slice(1);
  let version: string | undefined;
  if (rest[0] === 'versions') {
    if (rest.length < 2 || !DIGITS.test(rest[1])) return null;
    version = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0) return { route: 'model_metadata', model, version };
  if (rest.length === 1 && Object.prototype.hasOwnProperty.call(MODEL_ACTIONS, rest[0])) {
    return { route: MODEL_ACTIONS[rest[0]], model, version };
  }
  return null;
}

function decodeSegment(segment: string): string | null {
  if (segment === '') return null;
  try {
    const decoded = decodeURIComponent(segment);
    // An encoded '/' would make a name the other routes cannot address.
    return decoded === '' || decoded.includes('/') ? null : decoded;
  } catch {
    return null;
  }
}
