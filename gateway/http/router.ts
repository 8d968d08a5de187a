// Maps (method, path) to a route (docs/protocol.md "Endpoints"). Pure: no uWS here.
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
  | 'repository_load'
  | 'repository_unload'
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

const POST_ROUTES: ReadonlySet<RouteName> = new Set<RouteName>([
  'infer',
  'repository_index',
  'repository_load',
  'repository_unload',
]);
const DIGITS = /^[0-9]+$/;
const MODELS_PREFIX = '/v2/models/';
const REPOSITORY_MODELS_PREFIX = '/v2/repository/models/';
const REPOSITORY_ACTIONS: Record<string, RouteName> = { load: 'repository_load', unload: 'repository_unload' };

// Paths repeat (clients call the same few models): matches are remembered,
// up to a bound so that scanning for paths cannot grow memory.
const CACHE_LIMIT = 1024;
const cache = new Map<string, { route: RouteName; model?: string; version?: string } | null>();

// `method` in any case; `path` without the query string.
export function matchRoute(method: string, path: string): RouteMatch {
  let found = cache.get(path);
  if (found === undefined) {
    found = findRoute(path);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(path, found);
  }
  if (!found) return { kind: 'not_found' };
  const allow = POST_ROUTES.has(found.route) ? 'POST' : 'GET';
  // uWS hands the method in lower case.
  if (method !== allow && method.toUpperCase() !== allow) return { kind: 'method_not_allowed', allow };
  return { kind: 'route', ...found };
}

function findRoute(path: string): { route: RouteName; model?: string; version?: string } | null {
  const fixed = FIXED[path];
  if (fixed) return { route: fixed };
  if (path.startsWith(REPOSITORY_MODELS_PREFIX)) return findRepositoryRoute(path);
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

// /v2/repository/models/{name}/load|unload
function findRepositoryRoute(path: string): { route: RouteName; model: string } | null {
  const segments = path.slice(REPOSITORY_MODELS_PREFIX.length).split('/');
  if (segments.length !== 2 || !Object.prototype.hasOwnProperty.call(REPOSITORY_ACTIONS, segments[1])) return null;
  const model = decodeSegment(segments[0]);
  return model === null ? null : { route: REPOSITORY_ACTIONS[segments[1]], model };
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
