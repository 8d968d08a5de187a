import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchRoute } from './router';

test('fixed routes', () => {
  assert.deepEqual(matchRoute('GET', '/v2/health/live'), { kind: 'route', route: 'health_live' });
  assert.deepEqual(matchRoute('get', '/v2/health/ready'), { kind: 'route', route: 'health_ready' });
  assert.deepEqual(matchRoute('GET', '/v2'), { kind: 'route', route: 'server_metadata' });
  assert.deepEqual(matchRoute('GET', '/v2/models/stats'), { kind: 'route', route: 'model_stats' });
  assert.deepEqual(matchRoute('POST', '/v2/repository/index'), { kind: 'route', route: 'repository_index' });
  assert.deepEqual(matchRoute('GET', '/metrics'), { kind: 'route', route: 'metrics' });
});

test('model routes with and without a version', () => {
  assert.deepEqual(matchRoute('GET', '/v2/models/mlp'), {
    kind: 'route',
    route: 'model_metadata',
    model: 'mlp',
    version: undefined,
  });
  assert.deepEqual(matchRoute('GET', '/v2/models/mlp/versions/12'), {
    kind: 'route',
    route: 'model_metadata',
    model: 'mlp',
    version: '12',
  });
  assert.deepEqual(matchRoute('GET', '/v2/models/mlp/ready'), {
    kind: 'route',
    route: 'model_ready',
    model: 'mlp',
    version: undefined,
  });
  assert.deepEqual(matchRoute('GET', '/v2/models/mlp/versions/3/config'), {
    kind: 'route',
    route: 'model_config',
    model: 'mlp',
    version: '3',
  });
  assert.deepEqual(matchRoute('GET', '/v2/models/mlp/stats'), {
    kind: 'route',
    route: 'model_stats',
    model: 'mlp',
    version: undefined,
  });
  assert.deepEqual(matchRoute('POST', '/v2/models/mlp/versions/1/infer'), {
    kind: 'route',
    route: 'infer',
    model: 'mlp',
    version: '1',
  });
});

test('the model name is URL-decoded and may hold any character but /', () => {
  assert.deepEqual(matchRoute('POST', '/v2/models/my%20model.v2-x/infer'), {
    kind: 'route',
    route: 'infer',
    model: 'my model.v2-x',
    version: undefined,
  });
  assert.deepEqual(matchRoute('GET', '/v2/models/a%2Fb'), { kind: 'not_found' });
  assert.deepEqual(matchRoute('GET', '/v2/models/%E0%A4%A'), { kind: 'not_found' });
});

test('the version segment must be digits', () => {
  assert.deepEqual(matchRoute('GET', '/v2/models/mlp/versions/x1'), { kind: 'not_found' });
  assert.deepEqual(matchRoute('GET', '/v2/models/mlp/versions/-1/ready'), { kind: 'not_found' });
  assert.deepEqual(matchRoute('GET', '/v2/models/mlp/versions'), { kind: 'not_found' });
});

test('unknown paths are 404, wrong methods 405', () => {
  for (const path of [
    '/',
    '/v1',
    '/v2/',
    '/v2/models',
    '/v2/models/',
    '/v2/models/mlp/',
    '/v2/models/mlp/bogus',
    '/v2/models/mlp/ready/x',
    '/v2/health',
  ]) {
    assert.deepEqual(matchRoute('GET', path), { kind: 'not_found' }, path);
  }
  assert.deepEqual(matchRoute('GET', '/v2/models/mlp/infer'), { kind: 'method_not_allowed', allow: 'POST' });
  assert.deepEqual(matchRoute('POST', '/v2/health/live'), { kind: 'method_not_allowed', allow: 'GET' });
  assert.deepEqual(matchRoute('DELETE', '/v2/models/mlp'), { kind: 'method_not_allowed', allow: 'GET' });
  assert.deepEqual(matchRoute('GET', '/v2/repository/index'), { kind: 'method_not_allowed', allow: 'POST' });
});

test('repository load and unload take the model name; anything else there is 404', () => {
  assert.deepEqual(matchRoute('POST', '/v2/repository/models/mlp/load'), {
    kind: 'route',
    route: 'repository_load',
    model: 'mlp',
  });
  assert.deepEqual(matchRoute('POST', '/v2/repository/models/my%20m/unload'), {
    kind: 'route',
    route: 'repository_unload',
    model: 'my m',
  });
  assert.deepEqual(matchRoute('GET', '/v2/repository/models/mlp/load'), { kind: 'method_not_allowed', allow: 'POST' });
  for (const path of [
    '/v2/repository/models/mlp',
    '/v2/repository/models/mlp/reload',
    '/v2/repository/models//load',
    '/v2/repository/models/a%2Fb/load',
    '/v2/repository/models/mlp/load/x',
  ]) {
    assert.deepEqual(matchRoute('POST', path), { kind: 'not_found' }, path);
  }
});
