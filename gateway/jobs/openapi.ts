// The jobs routes' entries in the management API's OpenAPI document
// (registry/openapi.ts holds the rest; adminWithJobs merges these in).
const error = { $ref: '#/components/responses/Error' };
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const errors = { '401': error, '403': error, '404': error };
const job = {
  description: '{"id","tenant","model","version","status","reason","progress":{"total","done","failed"},...}',
};

export const JOBS_OPENAPI_PATHS = {
  '/api/v1/jobs': {
    post: {
      summary: 'create an asynchronous inference job (docs/jobs.md)',
      parameters: [
        { name: 'model', in: 'query', description: 'JSONL form only', schema: { type: 'string' } },
        { name: 'version', in: 'query', description: 'JSONL form only', schema: { type: 'string' } },
        { name: 'webhook', in: 'query', description: 'JSONL form only', schema: { type: 'string' } },
      ],
      requestBody: {
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['model', 'requests'],
              properties: {
                model: { type: 'string' },
                version: { type: 'string' },
                webhook: { type: 'string', format: 'uri' },
                requests: { type: 'array', items: { type: 'object', description: 'a KServe v2 inference request' } },
              },
            },
          },
          'application/x-ndjson': { schema: { type: 'string', description: 'one inference request per line' } },
        },
      },
      responses: { '202': { description: '{"id"}' }, '400': error, '413': error, ...errors },
    },
    get: {
      summary: "list the caller's jobs, newest first",
      responses: { '200': { description: 'a page' }, ...errors },
    },
  },
  '/api/v1/jobs/{id}': {
    get: { summary: 'a job: status and progress', parameters: [id], responses: { '200': job, ...errors } },
    delete: { summary: 'cancel a job', parameters: [id], responses: { '200': job, ...errors } },
  },
  '/api/v1/jobs/{id}/results': {
    get: {
      summary: 'results as JSONL in input order (a finished job: all; a running one: the chunks stored so far)',
      parameters: [id],
      responses: { '200': { description: 'application/x-ndjson' }, ...errors },
    },
  },
};
