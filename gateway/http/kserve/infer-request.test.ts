import { test } from 'node:test';
import assert from 'node:assert/strict';
import { code, list } from '../../../test/support/maas-assert';
import type { ModelMetadata } from '../../inference/model-types';
import { decodeInferRequest, type DecodeOptions, type RawModelInfo } from './infer-request';
import { encodeInferResponse } from './infer-response';

const MLP: ModelMetadata = {
  name: 'mlp',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [
    { name: 'probs', datatype: 'FP32', shape: [-1, 2] },
    { name: 'logits', datatype: 'FP32', shape: [-1, 2] },
  ],
};

function options(extra: Partial<DecodeOptions> = {}, raw?: RawModelInfo): DecodeOptions {
  return {
    modelName: 'mlp',
    headerLength: '',
    describeModel: () => raw ?? assert.fail('describeModel called outside raw mode'),
    ...extra,
  };
}

function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

// A body in a fresh ArrayBuffer (byteOffset 0) with the JSON padded by
// `padBytes` spaces, then the blobs back to back.
function binaryBody(header: unknown, blobs: Uint8Array[], padBytes = 0): { body: Buffer; headerLength: string } {
  const json = Buffer.from(JSON.stringify(header) + ' '.repeat(padBytes));
  const total = json.length + blobs.reduce((n, b) => n + b.byteLength, 0);
  const body = Buffer.from(new ArrayBuffer(total));
  json.copy(body, 0);
  let offset = json.length;
  for (const blob of blobs) {
    body.set(blob, offset);
    offset += blob.byteLength;
  }
  return { body, headerLength: String(json.length) };
}

function bytesOf(values: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

test('JSON request: id, inputs, outputs, parameters', () => {
  const { request, outputEncoding } = decodeInferRequest(
    jsonBody({
      id: '42',
      parameters: { priority: 2, timeout: 5000, binary_data_output: true, custom: 'x' },
      inputs: [
        {
          name: 'input',
          shape: [2, 2],
          datatype: 'FP32',
          data: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
      outputs: [{ name: 'probs', parameters: { binary_data: false } }],
    }),
    options({ modelVersion: '1' }),
  );
  assert.equal(request.id, '42');
  assert.equal(request.modelName, 'mlp');
  assert.equal(request.modelVersion, '1');
  assert.equal(request.priority, 2);
  assert.equal(request.timeoutUs, 5000);
  assert.deepEqual(request.parameters, { custom: 'x' });
  assert.deepEqual(request.inputs[0].shape, [2, 2]);
  assert.deepEqual(list(request.inputs[0].data), [1, 2, 3, 4]);
  assert.deepEqual(request.outputs, [{ name: 'probs' }]);
  assert.equal(outputEncoding.defaultBinary, true);
  assert.equal(outputEncoding.binaryByName.get('probs'), false);
});

test('defaults: no id, priority 0, timeout 0, JSON outputs', () => {
  const { request, outputEncoding } = decodeInferRequest(
    jsonBody({
      inputs: [{ name: 'input', shape: [1, 1], datatype: 'INT32', data: [7] }],
    }),
    options(),
  );
  assert.equal('id' in request, false);
  assert.equal(request.priority, 0);
  assert.equal(request.timeoutUs, 0);
  assert.equal(request.outputs, undefined);
  assert.equal(outputEncoding.defaultBinary, false);
});

test('schema and datatype errors', () => {
  const input = { name: 'input', shape: [1], datatype: 'FP32', data: [1] };
  assert.equal(
    code(() => decodeInferRequest(Buffer.from('{"inputs": ['), options())),
    'INVALID_JSON',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody([1]), options())),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [] }), options())),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ id: 5, inputs: [input] }), options())),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [{ ...input, shape: [-1] }] }), options())),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [input, input] }), options())),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [{ ...input, datatype: 'FLOAT' }] }), options())),
    'INVALID_DATATYPE',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [{ ...input, datatype: 'BYTES', data: ['a'] }] }), options())),
    'INVALID_DATATYPE',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [{ ...input, datatype: 'FP16' }] }), options())),
    'UNSUPPORTED_ENCODING',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [{ ...input, shape: [3] }] }), options())),
    'INVALID_SHAPE',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [{ ...input, shape: [1e9, 1e9] }] }), options())),
    'INVALID_SHAPE',
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [input], outputs: [{ name: 'a' }, { name: 'a' }] }), options())),
    'INVALID_REQUEST',
  );
});

test('exactly one of data, binary_data_size, shared memory', () => {
  const base = { name: 'input', shape: [1], datatype: 'FP32' };
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [base] }), options())),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() =>
      decodeInferRequest(
        jsonBody({ inputs: [{ ...base, data: [1], parameters: { binary_data_size: 4 } }] }),
        options(),
      ),
    ),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() =>
      decodeInferRequest(
        jsonBody({ inputs: [{ ...base, parameters: { shared_memory_region: 'r', shared_memory_byte_size: 4 } }] }),
        options(),
      ),
    ),
    'INVALID_PARAMETER',
  );
});

test('reserved and mistyped parameters are refused', () => {
  const inputs = [{ name: 'input', shape: [1], datatype: 'FP32', data: [1] }];
  const bad = (parameters: unknown) => code(() => decodeInferRequest(jsonBody({ inputs, parameters }), options()));
  assert.equal(bad({ triton_enable_empty_final_response: true }), 'INVALID_PARAMETER');
  assert.equal(bad({ triton_anything: 1 }), 'INVALID_PARAMETER');
  assert.equal(bad({ headers: 'x' }), 'INVALID_PARAMETER');
  assert.equal(bad({ sequence_id: 7 }), 'INVALID_PARAMETER');
  assert.equal(bad({ priority: -1 }), 'INVALID_PARAMETER');
  assert.equal(bad({ priority: '1' }), 'INVALID_PARAMETER');
  assert.equal(bad({ timeout: 1.5 }), 'INVALID_PARAMETER');
  assert.equal(bad({ binary_data_output: 1 }), 'INVALID_PARAMETER');
  assert.equal(bad({ nested: { a: 1 } }), 'INVALID_PARAMETER');
  assert.equal(bad([1]), 'INVALID_PARAMETER');
  // "not part of a sequence" is accepted
  assert.equal(
    decodeInferRequest(jsonBody({ inputs, parameters: { sequence_id: 0, sequence_start: false } }), options()).request
      .priority,
    0,
  );
  assert.equal(
    code(() => decodeInferRequest(jsonBody({ inputs: [{ ...inputs[0], parameters: { triton_x: 1 } }] }), options())),
    'INVALID_PARAMETER',
  );
  assert.equal(
    code(() =>
      decodeInferRequest(
        jsonBody({ inputs, outputs: [{ name: 'probs', parameters: { binary_data: 'yes' } }] }),
        options(),
      ),
    ),
    'INVALID_PARAMETER',
  );
  assert.equal(
    code(() =>
      decodeInferRequest(
        jsonBody({ inputs, outputs: [{ name: 'probs', parameters: { classification: 2 } }] }),
        options(),
      ),
    ),
    'INVALID_PARAMETER',
  );
});

test('binary blobs are sliced in input order, JSON inputs take no slot', () => {
  const a = new Float32Array([1, 2, 3, 4]);
  const b = new Int32Array([-7, 8]);
  const header = {
    inputs: [
      { name: 'a', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: 16 } },
      { name: 'j', shape: [1], datatype: 'FP32', data: [9] },
      { name: 'b', shape: [2], datatype: 'INT32', parameters: { binary_data_size: 8 } },
    ],
  };
  const jsonLength = JSON.stringify(header).length;
  const pad = (4 - (jsonLength % 4)) % 4; // align the first blob to 4 bytes
  const { body, headerLength } = binaryBody(header, [bytesOf(a), bytesOf(b)], pad);
  const { request } = decodeInferRequest(body, options({ headerLength }));
  const [ia, ij, ib] = request.inputs;
  assert.deepEqual(list(ia.data), [1, 2, 3, 4]);
  assert.deepEqual(list(ij.data), [9]);
  assert.deepEqual(list(ib.data), [-7, 8]);
  // Aligned: views over the body, no copies.
  assert.equal(ia.data.buffer, body.buffer);
  assert.equal(ib.data.buffer, body.buffer);
  assert.equal(ia.parameters, undefined);
});

test('misaligned blobs are copied, with the right values', () => {
  const a = new Float32Array([0.5, -1.25]);
  const big = new BigInt64Array([-1n, 2n ** 40n]);
  const header = {
    inputs: [
      { name: 'a', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } },
      { name: 'big', shape: [2], datatype: 'INT64', parameters: { binary_data_size: 16 } },
    ],
  };
  const jsonLength = JSON.stringify(header).length;
  const pad = ((4 - (jsonLength % 4)) % 4) + 1; // one byte past alignment
  const { body, headerLength } = binaryBody(header, [bytesOf(a), bytesOf(big)], pad);
  const { request } = decodeInferRequest(body, options({ headerLength }));
  assert.notEqual(request.inputs[0].data.buffer, body.buffer);
  assert.deepEqual(list(request.inputs[0].data), [0.5, -1.25]);
  assert.ok(request.inputs[1].data instanceof BigInt64Array);
  assert.deepEqual(list(request.inputs[1].data), [-1n, 2n ** 40n]);
});

test('truncated or inconsistent binary is INVALID_BINARY', () => {
  const header = { inputs: [{ name: 'a', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } }] };
  const blob = bytesOf(new Float32Array([1, 2]));
  const { body, headerLength } = binaryBody(header, [blob]);
  // Header length past the end of the body.
  assert.equal(
    code(() => decodeInferRequest(body, options({ headerLength: String(body.length + 1) }))),
    'INVALID_BINARY',
  );
  assert.equal(
    code(() => decodeInferRequest(body, options({ headerLength: 'abc' }))),
    'INVALID_BINARY',
  );
  // Truncated blob.
  assert.equal(
    code(() => decodeInferRequest(body.subarray(0, body.length - 1), options({ headerLength }))),
    'INVALID_BINARY',
  );
  // Extra bytes after the blobs.
  const longer = Buffer.concat([body, Buffer.alloc(4)]);
  assert.equal(
    code(() => decodeInferRequest(longer, options({ headerLength }))),
    'INVALID_BINARY',
  );
  // binary_data_size disagrees with the shape.
  const wrong = binaryBody(
    { inputs: [{ name: 'a', shape: [3], datatype: 'FP32', parameters: { binary_data_size: 8 } }] },
    [blob],
  );
  assert.equal(
    code(() => decodeInferRequest(wrong.body, options({ headerLength: wrong.headerLength }))),
    'INVALID_BINARY',
  );
  // Binary input without the header: the whole body is JSON, no blob bytes.
  assert.equal(
    code(() => decodeInferRequest(jsonBody(header), options())),
    'INVALID_BINARY',
  );
  // A header length of 400 digits is a number larger than the body, not "Infinity".
  const nines = '9'.repeat(400);
  assert.equal(
    code(() => decodeInferRequest(body, options({ headerLength: nines }))),
    'INVALID_BINARY',
  );
  assert.match(
    String(
      (() => {
        try {
          decodeInferRequest(body, options({ headerLength: nines }));
        } catch (e) {
          return (e as Error).message;
        }
      })(),
    ),
    /Inference-Header-Content-Length 9{20}… \(400 digits\) is larger than the \d+-byte body/,
  );
  assert.equal(
    code(() => decodeInferRequest(body, options({ headerLength: `000${body.length + 1}` }))),
    'INVALID_BINARY',
  );
  assert.equal(decodeInferRequest(body, options({ headerLength: `000${headerLength}` })).request.inputs[0].name, 'a');
  // Header length cutting the JSON short.
  assert.equal(
    code(() => decodeInferRequest(body, options({ headerLength: '10' }))),
    'INVALID_JSON',
  );
});

test('raw-body mode: batch 1, variable dimension from the length, outputs binary', () => {
  const values = new Float32Array([1, 2, 3, 4]);
  const body = Buffer.from(values.buffer);
  const { request, outputEncoding } = decodeInferRequest(
    body,
    options({ headerLength: '0' }, { metadata: MLP, maxBatchSize: 8 }),
  );
  assert.deepEqual(request.inputs[0].shape, [1, 4]);
  assert.equal(request.inputs[0].name, 'input');
  assert.deepEqual(list(request.inputs[0].data), [1, 2, 3, 4]);
  assert.equal(outputEncoding.defaultBinary, true);

  const variable: ModelMetadata = { ...MLP, inputs: [{ name: 'seq', datatype: 'INT32', shape: [-1, -1, 2] }] };
  const ints = Buffer.from(new Int32Array([1, 2, 3, 4, 5, 6]).buffer);
  const decoded = decodeInferRequest(ints, options({ headerLength: '0' }, { metadata: variable, maxBatchSize: 4 }));
  assert.deepEqual(decoded.request.inputs[0].shape, [1, 3, 2]);

  const unbatched: ModelMetadata = { ...MLP, inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2] }] };
  assert.deepEqual(
    decodeInferRequest(body, options({ headerLength: '0' }, { metadata: unbatched, maxBatchSize: 0 })).request.inputs[0]
      .shape,
    [2, 2],
  );

  // Wrong length, two inputs, two variable dims.
  assert.equal(
    code(() =>
      decodeInferRequest(body.subarray(0, 12), options({ headerLength: '0' }, { metadata: MLP, maxBatchSize: 8 })),
    ),
    'INVALID_BINARY',
  );
  assert.equal(
    code(() =>
      decodeInferRequest(ints.subarray(0, 20), options({ headerLength: '0' }, { metadata: variable, maxBatchSize: 4 })),
    ),
    'INVALID_BINARY',
  );
  const two: ModelMetadata = { ...MLP, inputs: [...MLP.inputs, { name: 'y', datatype: 'FP32', shape: [-1, 1] }] };
  assert.equal(
    code(() => decodeInferRequest(body, options({ headerLength: '0' }, { metadata: two, maxBatchSize: 8 }))),
    'INVALID_REQUEST',
  );
  const twoVar: ModelMetadata = { ...MLP, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1, -1] }] };
  assert.equal(
    code(() => decodeInferRequest(body, options({ headerLength: '0' }, { metadata: twoVar, maxBatchSize: 8 }))),
    'INVALID_REQUEST',
  );
});

const RESULT = {
  modelName: 'mlp',
  modelVersion: '1',
  outputs: [
    { name: 'probs', datatype: 'FP32' as const, shape: [1, 2], data: new Float32Array([0.25, 0.75]) },
    { name: 'ids', datatype: 'INT64' as const, shape: [2], data: new BigInt64Array([3n, -4n]) },
    { name: 'mask', datatype: 'BOOL' as const, shape: [2], data: new Uint8Array([1, 0]) },
  ],
  batchSize: 1,
  timing: { queueUs: 1, computeInputUs: 0, computeInferUs: 2, computeOutputUs: 0, totalUs: 3 },
};

test('encode: JSON response, flat data, id only when given, version as string', () => {
  const none = new Map<string, boolean>();
  const encoded = encodeInferResponse(RESULT, { outputEncoding: { defaultBinary: false, binaryByName: none } });
  assert.equal(encoded.contentType, 'application/json');
  assert.equal(encoded.headerLengthBytes, undefined);
  const json = JSON.parse(encoded.body.toString());
  assert.deepEqual(json, {
    model_name: 'mlp',
    model_version: '1',
    outputs: [
      { name: 'probs', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] },
      { name: 'ids', datatype: 'INT64', shape: [2], data: [3, -4] },
      { name: 'mask', datatype: 'BOOL', shape: [2], data: [true, false] },
    ],
  });
  const withId = JSON.parse(
    encodeInferResponse(RESULT, {
      id: 'abc',
      outputEncoding: { defaultBinary: false, binaryByName: none },
    }).body.toString(),
  );
  assert.equal(withId.id, 'abc');
});

test('encode: requested outputs filter and order; binary per output', () => {
  const encoded = encodeInferResponse(RESULT, {
    requestedOutputs: [{ name: 'mask' }, { name: 'probs' }],
    outputEncoding: { defaultBinary: false, binaryByName: new Map([['probs', true]]) },
  });
  assert.equal(encoded.contentType, 'application/octet-stream');
  const headerBytes = encoded.headerLengthBytes as number;
  const json = JSON.parse((encoded.body as Buffer).subarray(0, headerBytes).toString());
  assert.deepEqual(
    json.outputs.map((o: { name: string }) => o.name),
    ['mask', 'probs'],
  );
  assert.deepEqual(json.outputs[0].data, [true, false]);
  assert.deepEqual(json.outputs[1].parameters, { binary_data_size: 8 });
  assert.equal(json.outputs[1].data, undefined);
  const blob = (encoded.body as Buffer).subarray(headerBytes);
  assert.equal(blob.length, 8);
  assert.deepEqual(list(new Float32Array(new Uint8Array(blob).buffer)), [0.25, 0.75]);
  assert.equal(
    code(() =>
      encodeInferResponse(RESULT, {
        requestedOutputs: [{ name: 'nope' }],
        outputEncoding: { defaultBinary: false, binaryByName: new Map() },
      }),
    ),
    'INVALID_REQUEST',
  );
});

test('encode: binary_data_output makes all binary unless overridden', () => {
  const encoded = encodeInferResponse(RESULT, {
    outputEncoding: { defaultBinary: true, binaryByName: new Map([['mask', false]]) },
  });
  const headerBytes = encoded.headerLengthBytes as number;
  const json = JSON.parse((encoded.body as Buffer).subarray(0, headerBytes).toString());
  assert.deepEqual(
    json.outputs.map((o: { parameters?: unknown }) => o.parameters),
    [{ binary_data_size: 8 }, { binary_data_size: 16 }, undefined],
  );
  assert.equal((encoded.body as Buffer).length, headerBytes + 24);
  const ids = new BigInt64Array(
    new Uint8Array((encoded.body as Buffer).subarray(headerBytes + 8, headerBytes + 24)).buffer,
  );
  assert.deepEqual(list(ids), [3n, -4n]);
});

// A JS string holds at most 2^29 - 24 characters: an output whose JSON could
// pass that is refused up front (not a bare 500 "Invalid string length"),
// and the same output goes out in binary.
test('encode: outputs too large for a JSON string are OUTPUT_TOO_LARGE pointing to binary output', () => {
  const huge = {
    name: 'y',
    datatype: 'FP32' as const,
    shape: [30_000_000],
    data: new Float32Array(30_000_000).fill(1 / 3),
  };
  const result = { ...RESULT, outputs: [huge] };
  const none = new Map<string, boolean>();
  assert.equal(
    code(() => encodeInferResponse(result, { outputEncoding: { defaultBinary: false, binaryByName: none } })),
    'OUTPUT_TOO_LARGE',
  );
  assert.match(
    String(
      (() => {
        try {
          encodeInferResponse(result, { outputEncoding: { defaultBinary: false, binaryByName: none } });
        } catch (e) {
          return (e as Error).message;
        }
      })(),
    ),
    /'y' \(30000000 elements\).*binary_data_output/,
  );
  const binary = encodeInferResponse(result, { outputEncoding: { defaultBinary: true, binaryByName: none } });
  assert.equal((binary.body as Buffer).length, (binary.headerLengthBytes as number) + 120_000_000);
});
