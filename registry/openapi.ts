// The management API's OpenAPI 3.1 document, served at /api/v1/openapi.json.
// Kept beside api.ts; registry.test.ts checks that every route api.ts serves
// is described here.
const error = { $ref: '#/components/responses/Error' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const page = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];
const param = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const errors = { '401': error, '403': error, '404': error };

// The usage API (usage/api.ts, docs/usage.md "API").
const query = (name: string, schema: unknown, description: string) => ({ name, in: 'query', schema, description });
const window = [
  query('tenant', { type: 'string' }, "a tenant's name (an admin: any, default all; others: their own)"),
  query('model', { type: 'string' }, 'the served model name (registry models: tenant/name)'),
  query('from', { type: 'string', format: 'date-time' }, 'inclusive (the roll-up: from the hour it falls in)'),
  query('to', { type: 'string', format: 'date-time' }, 'exclusive'),
];
const USAGE_PATHS = {
  '/api/v1/usage': {
    get: {
      summary: 'usage totals from the hourly roll-up (an owner: its tenant; an admin: any)',
      parameters: [...window, query('groupBy', { enum: ['model', 'key', 'hour', 'day'] }, 'also totals per group')],
      responses: {
        '200': {
          description:
            '{"tenant","model","from","to","totals":{"requests","inferences","inputBytes","outputBytes","computeSeconds","errors"},"groupBy"?,"groups"?:[{<group>, ...totals}]}',
        },
        '400': error,
        ...errors,
      },
    },
  },
  '/api/v1/usage/export': {
    get: {
      summary: 'the raw usage records in time order, streamed (chunked)',
      parameters: [...window, query('format', { enum: ['jsonl', 'csv'], default: 'jsonl' }, 'one record per line')],
      responses: {
        '200': {
          description: 'application/x-ndjson or text/csv; the record schema of docs/usage.md',
          content: { 'application/x-ndjson': {}, 'text/csv': {} },
        },
        '400': error,
        ...errors,
      },
    },
  },
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'MaaS management API', version: '1' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    responses: {
      Error: {
        description: 'an error from the one error registry',
        ...json({
          type: 'object',
          required: ['error', 'code'],
          properties: { error: { type: 'string' }, code: { type: 'string' } },
        }),
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/v1/tenants': {
      post: {
        summary: 'create a tenant (admin)',
        requestBody: json({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } }),
        responses: { '201': { description: '{"id","name","createdAt"}' }, '409': error, ...errors },
      },
      get: {
        summary: 'list tenants (admin)',
        parameters: page,
        responses: { '200': { description: 'a page' }, ...errors },
      },
    },
    '/api/v1/tenants/{tenant}/priority': {
      put: {
        summary: "set a tenant's priority class (admins only; docs/resilience.md)",
        parameters: [param('tenant')],
        requestBody: json({
          type: 'object',
          required: ['priority'],
          properties: { priority: { enum: ['premium', 'standard'] } },
        }),
        responses: { '200': { description: '{"tenant","priority"}' }, ...errors },
      },
      get: {
        summary: "a tenant's priority class",
        parameters: [param('tenant')],
        responses: { '200': { description: '{"tenant","priority"}' }, ...errors },
      },
    },
    '/api/v1/tenants/{tenant}/keys': {
      post: {
        summary: 'create an API key; the secret `key` is in this answer only',
        parameters: [param('tenant')],
        requestBody: json({
          type: 'object',
          required: ['role'],
          properties: {
            role: { enum: ['owner', 'developer', 'viewer'] },
            name: { type: 'string' },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        }),
        responses: { '201': { description: '{"id","key","prefix","role",...}' }, ...errors },
      },
      get: {
        summary: "list a tenant's keys (no secrets)",
        parameters: [param('tenant'), ...page],
        responses: { '200': { description: 'a page' }, ...errors },
      },
    },
    '/api/v1/keys/{id}': {
      delete: {
        summary: 'revoke a key',
        parameters: [param('id')],
        responses: { '204': { description: 'revoked' }, ...errors },
      },
    },
    '/api/v1/models': {
      post: {
        summary: "create a model in the caller's tenant (an admin names `tenant`)",
        requestBody: json({
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string' },
            visibility: { enum: ['private', 'public'] },
            config: { type: 'object' },
            tenant: { type: 'string' },
          },
        }),
        responses: { '201': { description: 'the model' }, '409': error, ...errors },
      },
      get: {
        summary: "the caller's models and the public ones",
        parameters: page,
        responses: { '200': { description: 'a page' }, ...errors },
      },
    },
    '/api/v1/models/{model}': {
      get: {
        summary: 'a model with its versions and aliases',
        parameters: [param('model')],
        responses: { '200': { description: 'the model' }, ...errors },
      },
      delete: {
        summary: 'delete a model: its versions drain and unload',
        parameters: [param('model')],
        responses: { '204': { description: 'deleted' }, ...errors },
      },
    },
    '/api/v1/models/{model}/versions': {
      get: {
        summary: 'versions',
        parameters: [param('model')],
        responses: { '200': { description: 'versions' }, ...errors },
      },
    },
    '/api/v1/models/{model}/versions/{version}': {
      put: {
        summary: 'upload a version (the ONNX file as the raw body)',
        parameters: [param('model'), param('version')],
        requestBody: { content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
        responses: {
          '201': { description: 'validated and ready' },
          '409': error,
          '413': error,
          '422': error,
          ...errors,
        },
      },
    },
    '/api/v1/models/{model}/aliases/{alias}': {
      put: {
        summary: 'point an alias (`production` is the default version) at a ready version',
        parameters: [param('model'), param('alias')],
        requestBody: json({ type: 'object', required: ['version'], properties: { version: { type: 'integer' } } }),
        responses: { '200': { description: 'moved' }, ...errors },
      },
    },
    '/api/v1/audit': {
      get: {
        summary: "the audit log (an owner: its tenant's; an admin: all)",
        parameters: page,
        responses: { '200': { description: 'a page, newest first' }, ...errors },
      },
    },
    ...USAGE_PATHS,
    '/api/v1/openapi.json': { get: { summary: 'this document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
  },
};
