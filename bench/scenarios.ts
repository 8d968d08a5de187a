// The requests each benchmark scenario sends. Every request carries one row
// (batch 1): that is what an online caller sends, and it is what makes the
// server's dynamic batcher matter.
import { DEMO_MODELS, seededRandom } from '../models/demo';
import { IDENTITY_BATCHED_MODEL, NOBATCH_MODEL } from './repository';

// Which server a scenario loads: the bare uWS baseline, the fastify +
// onnxruntime-node peer, or `maas serve`.
// 'maas-unmetered': `maas serve --usage off`, the baseline of the usage step's cost.
export type Target = 'uws' | 'fastify' | 'maas-unmetered' | 'maas';

export interface Scenario {
  name: string;
  target: Target;
  model: string | null; // the model the request runs (null: none, the uWS baseline)
  batching: boolean | null; // dynamic batching on the server side (null: not applicable)
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  what: string; // one line for the README/table legend
  // Throws when a response is not what the scenario promises (checked once,
  // before the load, so a fast wrong answer cannot pass as a benchmark).
  check(status: number, headers: Headers, body: Buffer): void;
}

const MLP = DEMO_MODELS.mlp;
const IDENTITY = DEMO_MODELS.identity;
const MLP_FEATURES = MLP.input.dims[1];
const MLP_CLASSES = MLP.output.dims[1];
const IDENTITY_WIDTH = IDENTITY.input.dims[1];

// Pixel-like values in [0, 1) with 3 decimals: the JSON a real client posts.
function inputRow(width: number, seed: number): number[] {
  const next = seededRandom(seed);
  return Array.from({ length: width }, () => Math.round(next() * 1000) / 1000);
}

function jsonInfer(inputName: string, row: number[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      inputs: [{ name: inputName, shape: [1, row.length], datatype: 'FP32', data: row }],
    }),
  );
}

// KServe binary tensor extension: JSON header, then the raw little-endian blob.
function binaryInfer(inputName: string, row: number[]): { body: Buffer; headerBytes: number } {
  const blob = Buffer.from(new Float32Array(row).buffer);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: inputName, shape: [1, row.length], datatype: 'FP32', parameters: { binary_data_size: blob.length } },
      ],
      parameters: { binary_data_output: true },
    }),
  );
  return { body: Buffer.concat([header, blob]), headerBytes: header.length };
}

function expectOk(status: number, body: Buffer): void {
  if (status !== 200) throw new Error(`status ${status}: ${body.subarray(0, 300).toString()}`);
}

function checkJsonOutput(outputName: string, elements: number) {
  return (status: number, _headers: Headers, body: Buffer) => {
    expectOk(status, body);
    const parsed = JSON.parse(body.toString()) as { outputs?: { name: string; data?: unknown[] }[] };
    const output = parsed.outputs?.find((o) => o.name === outputName);
    if (!output || output.data?.length !== elements) {
      throw new Error(`want ${elements} JSON values in '${outputName}', got ${body.subarray(0, 300).toString()}`);
    }
  };
}

function checkBinaryOutput(blobBytes: number) {
  return (status: number, headers: Headers, body: Buffer) => {
    expectOk(status, body);
    const headerBytes = Number(headers.get('inference-header-content-length'));
    if (!Number.isInteger(headerBytes) || body.length - headerBytes !== blobBytes) {
      throw new Error(
        `want a JSON header plus a ${blobBytes}-byte blob, got ${body.length} bytes, header length ${headers.get('inference-header-content-length')}`,
      );
    }
  };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function mlpJson(model: string, batching: string): Scenario {
  return {
    name: `mlp JSON batching ${batching}`,
    target: 'maas',
    model: MLP.name,
    batching: batching === 'on',
    path: `/v2/models/${model}/infer`,
    headers: JSON_HEADERS,
    body: jsonInfer(MLP.input.name, inputRow(MLP_FEATURES, 2)),
    what: `mlp (784→128→64→10, softmax), 1 row as JSON in and out, dynamic batching ${batching}`,
    check: checkJsonOutput(MLP.output.name, MLP_CLASSES),
  };
}

function mlpBinary(model: string, batching: string): Scenario {
  const { body, headerBytes } = binaryInfer(MLP.input.name, inputRow(MLP_FEATURES, 2));
  return {
    name: `mlp binary batching ${batching}`,
    target: 'maas',
    model: MLP.name,
    batching: batching === 'on',
    path: `/v2/models/${model}/infer`,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerBytes) },
    body,
    what: `mlp, 1 row as a raw float32 blob (binary tensor extension) in and out, dynamic batching ${batching}`,
    check: checkBinaryOutput(MLP_CLASSES * 4),
  };
}

export function buildScenarios(): Scenario[] {
  const identityBody = jsonInfer(IDENTITY.input.name, inputRow(IDENTITY_WIDTH, 1));
  const mlpBody = jsonInfer(MLP.input.name, inputRow(MLP_FEATURES, 2));
  const identityCheck = checkJsonOutput(IDENTITY.output.name, IDENTITY_WIDTH);
  return [
    {
      name: 'uWS hello (baseline)',
      target: 'uws',
      model: null,
      batching: null,
      path: '/v2/models/identity/infer',
      headers: JSON_HEADERS,
      body: identityBody,
      what: 'bare uWebSockets.js: read the POST body, answer a fixed small JSON; the floor of this HTTP stack',
      check: (status, _headers, body) => expectOk(status, body),
    },
    {
      name: 'fastify+ort identity',
      target: 'fastify',
      model: IDENTITY.name,
      batching: false,
      path: `/v2/models/${IDENTITY.name}/infer`,
      headers: JSON_HEADERS,
      body: identityBody,
      what: 'the peer: fastify + onnxruntime-node, same model file and body, one run per request',
      check: identityCheck,
    },
    {
      name: 'fastify+ort mlp',
      target: 'fastify',
      model: MLP.name,
      batching: false,
      path: `/v2/models/${MLP.name}/infer`,
      headers: JSON_HEADERS,
      body: mlpBody,
      what: 'the peer on mlp',
      check: checkJsonOutput(MLP.output.name, MLP_CLASSES),
    },
    {
      name: 'identity JSON batching off, metering off',
      target: 'maas-unmetered',
      model: IDENTITY.name,
      batching: false,
      path: `/v2/models/${IDENTITY.name}/infer`,
      headers: JSON_HEADERS,
      body: identityBody,
      what: 'the next scenario on `maas serve --usage off`: the difference is the usage step (record, outbox, roll-up)',
      check: identityCheck,
    },
    {
      name: 'identity JSON batching off',
      target: 'maas',
      model: IDENTITY.name,
      batching: false,
      path: `/v2/models/${IDENTITY.name}/infer`,
      headers: JSON_HEADERS,
      body: identityBody,
      what: "identity [1,16] FP32 as JSON, no batching: the gateway's own per-request cost (parse, route, engine call, encode)",
      check: identityCheck,
    },
    {
      name: 'identity JSON batching on',
      target: 'maas',
      model: IDENTITY.name,
      batching: true,
      path: `/v2/models/${IDENTITY_BATCHED_MODEL}/infer`,
      headers: JSON_HEADERS,
      body: identityBody,
      what: 'the same, with dynamic batching at no delay: requests that arrive during one engine run form the next batch',
      check: identityCheck,
    },
    mlpJson(MLP.name, 'on'),
    mlpJson(NOBATCH_MODEL, 'off'),
    mlpBinary(MLP.name, 'on'),
    mlpBinary(NOBATCH_MODEL, 'off'),
  ];
}
