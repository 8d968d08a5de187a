// The bounded JSON reader against JSON.parse (the reference): the same
// values for valid JSON, an INVALID_JSON error exactly where JSON.parse
// throws, correctly rounded numbers, tensor data straight into typed arrays,
// and hostile bodies refused or read without building JS values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { code, list } from '../../../test/support/maas-assert';
import { seededRandom } from '../../../models/demo';
import { readJsonData } from './json-codec';
import { JsonDataSpan, MAX_JSON_NESTING_DEPTH, MAX_JSON_VALUES, readInferenceJson, readJson } from './json-reader';
import { decodeInferRequest } from './infer-request';
import type { KServeDatatype } from '../../inference/datatypes';

function bytes(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

// deepStrictEqual treats 0 and -0 as equal only through Object.is: it does
// not, so -0 is checked too.
function assertSameAsJsonParse(text: string | Buffer): void {
  const body = typeof text === 'string' ? bytes(text) : text;
  let expected: unknown;
  let threw = false;
  try {
    expected = JSON.parse(body.toString('utf8'));
  } catch {
    threw = true;
  }
  if (threw) {
    assert.equal(
      code(() => readJson(body)),
      'INVALID_JSON',
      `JSON.parse refuses ${JSON.stringify(body.toString('latin1').slice(0, 80))}`,
    );
    return;
  }
  assert.deepStrictEqual(readJson(body), expected, body.toString('latin1').slice(0, 80));
}

test('values match JSON.parse: literals, numbers, strings, escapes, unicode, nesting, duplicates, __proto__', () => {
  const cases = [
    'true',
    'false',
    'null',
    '0',
    '-0',
    '0.0',
    '-0.0',
    '1',
    '-1',
    '1.5',
    '1e2',
    '1E+2',
    '1e-2',
    '-1.25e-3',
    '123456789012345678901234567890',
    '0.1',
    '0.30000000000000004',
    '1e400',
    '-1e400',
    '1e-400',
    '4.9e-324',
    '2.4e-324',
    '1.7976931348623157e308',
    '9007199254740993',
    '0.000001234',
    '1234567890.0987654321e-5',
    '""',
    '"a"',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
    '"\\u00e9\\u0041"',
    '"\\ud83d\\ude00"',
    '"é ü 漢字 😀"',
    '"\\ud800"',
    '[]',
    '{}',
    '[1,[2,[3,[]]],{"a":{}}]',
    ' \t\r\n[ 1 , 2 ]\n ',
    '{"a":1,"a":2}',
    '{"__proto__":{"x":1}}',
    '{"":0," ":[true,false,null]}',
    '[1e5,-0e0,0e-0,5E00]',
  ];
  for (const text of cases) assertSameAsJsonParse(text);
  const proto = readJson(bytes('{"__proto__":{"x":1}}')) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(Object.keys(proto), ['__proto__']);
  assert.ok(Object.is(readJson(bytes('-0')), -0));
  // Invalid UTF-8 inside a string becomes U+FFFD, as Buffer#toString does.
  assertSameAsJsonParse(Buffer.from([0x22, 0x61, 0xff, 0xfe, 0x62, 0x22]));
});

test('INVALID_JSON exactly where JSON.parse throws, with the position', () => {
  const cases = [
    '',
    ' ',
    '[',
    ']',
    '{',
    '[1,]',
    '[,1]',
    '{"a":1,}',
    '{"a" 1}',
    '{a:1}',
    "{'a':1}",
    '01',
    '-',
    '-01',
    '1.',
    '.5',
    '+1',
    '1e',
    '1e+',
    '0x10',
    'NaN',
    'Infinity',
    '-Infinity',
    'tru',
    'nul',
    'True',
    '"abc',
    '"a\u0001b"',
    '"\\x"',
    '"\\u12G4"',
    '[1 2]',
    '{"a":1}{',
    '[] []',
    '\u00a0[]',
    '\ufeff[]',
    '[1,2',
    '{"a":[1,{"b":2]}',
    '[1]x',
  ];
  for (const text of cases) assertSameAsJsonParse(text);
  assert.match(
    String(
      (() => {
        try {
          readJson(bytes('[1, 2 x'));
        } catch (e) {
          return (e as Error).message;
        }
      })(),
    ),
    /at byte 6: expected ',' or '\]' after an array element, found 'x'/,
  );
});

test('random documents and their mutations agree with JSON.parse', () => {
  const random = seededRandom(11);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const scalar = (): string =>
    pick([
      () => String(Math.floor(random() * 1e6) - 5e5),
      () => String((random() - 0.5) * 10 ** Math.floor(random() * 40 - 20)),
      () => (random() * 100).toExponential(Math.floor(random() * 20)),
      () =>
        JSON.stringify(
          String.fromCharCode(...Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * 0x3000))),
        ),
      () => pick(['true', 'false', 'null', '"\\n\\u00e9"', '""']),
    ])();
  const value = (depth: number): string => {
    if (depth > 4 || random() < 0.4) return scalar();
    const n = Math.floor(random() * 4);
    if (random() < 0.5)
      return `[${Array.from({ length: n }, () => value(depth + 1)).join(random() < 0.5 ? ',' : ' , ')}]`;
    return `{${Array.from({ length: n }, (_, i) => `"k${i % 3}" : ${value(depth + 1)}`).join(',')}}`;
  };
  for (let i = 0; i < 400; i++) {
    const text = value(0);
    assertSameAsJsonParse(text);
    // A few mutations each: truncations, dropped or inserted bytes.
    for (let m = 0; m < 4; m++) {
      const at = Math.floor(random() * (text.length + 1));
      const mutated = pick([
        () => text.slice(0, at),
        () => text.slice(0, at) + text.slice(at + 1),
        () =>
          text.slice(0, at) + pick([',', ']', '}', '"', '-', '.', 'e', '0', ' ', ':', '[', '{', '\\']) + text.slice(at),
      ])();
      assertSameAsJsonParse(mutated);
    }
  }
});

test('numbers are the correctly rounded doubles, in every form a client prints them', () => {
  const random = seededRandom(5);
  for (let i = 0; i < 5000; i++) {
    const x = (random() - 0.5) * 10 ** Math.floor(random() * 80 - 40);
    const forms = [
      String(x),
      x.toExponential(Math.floor(random() * 21)),
      x.toPrecision(1 + Math.floor(random() * 21)),
      String(Math.fround(x)),
      Math.abs(x) < 1e15 ? x.toFixed(Math.floor(random() * 20)) : String(x),
    ];
    for (const text of forms)
      if (Number.isFinite(Number(text))) assert.ok(Object.is(readJson(bytes(text)), Number(text)), text);
  }
});

// FP32 tensor data may take an approximate double internally; the float32
// it lands on must be the one JSON.parse + Float32Array gives, also for
// decimals right at the rounding boundary between two float32 values.
test('FP32 data lands on the same float32 as JSON.parse + Float32Array, boundaries included', () => {
  const random = seededRandom(9);
  const texts: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const f = Math.fround((random() - 0.5) * 10 ** Math.floor(random() * 60 - 30));
    texts.push(String(f), f.toPrecision(9), f.toPrecision(17), f.toExponential(20));
    // The midpoint to the next float32 up, and a hair either side of it.
    const next = Math.fround(f + Math.abs(f) * 2 ** -23);
    const mid = (f + next) / 2;
    texts.push(mid.toPrecision(21), (mid * (1 + 2 ** -50)).toPrecision(21), (mid * (1 - 2 ** -50)).toPrecision(21));
  }
  texts.push(
    '3.4028235677973366e38',
    '3.4028235677973367e38',
    '1e-45',
    '7e-46',
    '1.401298464324817e-45',
    '0.1',
    '16777217.000000000001',
  );
  const body = bytes(
    JSON.stringify({ inputs: [{ name: 'x', shape: [texts.length], datatype: 'FP32', data: [] }] }).replace(
      '"data":[]',
      `"data":[${texts.join(',')}]`,
    ),
  );
  const { request } = decodeInferRequest(body, {
    modelName: 'm',
    headerLength: '',
    describeModel: () => assert.fail(),
  });
  const got = request.inputs[0].data as Float32Array;
  const expected = Float32Array.from(JSON.parse(`[${texts.join(',')}]`) as number[]);
  for (let i = 0; i < texts.length; i++)
    assert.ok(Object.is(got[i], expected[i]), `${texts[i]}: ${got[i]} vs ${expected[i]}`);
});

// json-floats.ts reads runs of plain decimals in a loop of its own and hands
// over at anything else: mixed runs, whitespace and bad tokens must read
// exactly as the general path (and JSON.parse) reads them.
test('runs of plain decimals and what interrupts them read as JSON.parse does (FP32, FP64)', () => {
  const random = seededRandom(21);
  const pieces = () => {
    const x = (random() - 0.5) * 10 ** Math.floor(random() * 12 - 6);
    const forms = [
      x.toFixed(Math.floor(random() * 8)),
      String(Math.round(x)),
      x.toExponential(3),
      '-0',
      '0',
      '0.000',
      x.toPrecision(17),
      '123456789012345',
      '1234567890123456',
      '"NaN"',
      '0.0000000000000000000000001',
    ];
    return forms[Math.floor(random() * forms.length)];
  };
  const separators = [',', ', ', ' ,', '\n,\t', ',\r\n '];
  for (let round = 0; round < 200; round++) {
    const texts = Array.from({ length: 1 + Math.floor(random() * 40) }, pieces);
    let joined = texts[0];
    for (let i = 1; i < texts.length; i++) joined += separators[Math.floor(random() * separators.length)] + texts[i];
    const values = JSON.parse(`[${texts.join(',')}]`).map((v: number | string) =>
      typeof v === 'string' ? Number(v) : v,
    );
    for (const [datatype, Array] of [
      ['FP32', Float32Array],
      ['FP64', Float64Array],
    ] as const) {
      const body = bytes(
        `{"inputs":[{"name":"x","datatype":"${datatype}","shape":[${texts.length}],"data":[ ${joined} ]}]}`,
      );
      const got = decodeInferRequest(body, { modelName: 'm', headerLength: '', describeModel: () => assert.fail() })
        .request.inputs[0].data;
      const expected = Array.from(values as number[]);
      for (let i = 0; i < expected.length; i++)
        assert.ok(Object.is(got[i], expected[i]), `${datatype} ${texts[i]}: ${got[i]} vs ${expected[i]}`);
    }
  }
  const decode = (data: string, shape = 3) =>
    code(() =>
      decodeInferRequest(bytes(`{"inputs":[{"name":"x","datatype":"FP32","shape":[${shape}],"data":${data}}]}`), {
        modelName: 'm',
        headerLength: '',
        describeModel: () => assert.fail(),
      }),
    );
  assert.equal(decode('[1.5, 01, 2]'), 'INVALID_JSON'); // a leading zero
  assert.equal(decode('[1.5, 2., 3]'), 'INVALID_JSON');
  assert.equal(decode('[1.5, 2, 3,]'), 'INVALID_JSON');
  assert.equal(decode('[1.5 2, 3]'), 'INVALID_JSON');
  assert.equal(decode('[1.5, -, 3]'), 'INVALID_JSON');
  assert.equal(decode('[1.5, 2, 3, 4]'), 'INVALID_SHAPE'); // more values than the shape holds
  assert.equal(decode('[1.5, 2]'), 'INVALID_SHAPE');
  assert.equal(decode('[1.5, true, 3]'), 'INVALID_REQUEST');
});

function span(dataText: string): JsonDataSpan {
  const root = readInferenceJson(bytes(`{"inputs":[{"data":${dataText}}]}`)) as { inputs: Array<{ data: unknown }> };
  const data = root.inputs[0].data;
  assert.ok(data instanceof JsonDataSpan);
  return data;
}

test('tensor data read from the bytes equals data read from JS arrays, for every datatype', () => {
  const cases: Array<[KServeDatatype, string]> = [
    ['FP32', '[[1, -2.5e3], [3.25, "NaN"], ["Infinity", "-Infinity"]]'],
    ['FP64', '[0.1, 1e-310, -0, 1.7976931348623157e308]'],
    ['INT8', '[[-128], [127]]'],
    ['UINT8', '[0, 255]'],
    ['INT16', '[-32768, 32767]'],
    ['UINT16', '[0, 65535]'],
    ['INT32', '[-2147483648, 2147483647, 1e3, 2.0]'],
    ['UINT32', '[4294967295, 0]'],
    ['INT64', '[-9007199254740991, 9007199254740991]'],
    ['UINT64', '[0, 12345678901234]'],
    ['BOOL', '[true, [false, true]]'],
  ];
  for (const [datatype, text] of cases) {
    const fromJs = readJsonData(JSON.parse(text), datatype, span(text).count, 'x');
    const fromBytes = readJsonData(span(text), datatype, span(text).count, 'x');
    assert.equal(fromBytes.constructor, fromJs.constructor, datatype);
    assert.deepEqual(list(fromBytes), list(fromJs), datatype);
  }
  // Values that do not fit: the same codes (and for counts the same message).
  const bad: Array<[KServeDatatype, string, number]> = [
    ['UINT8', '[256]', 1],
    ['INT32', '[1.5]', 1],
    ['UINT64', '[-1]', 1],
    ['INT64', '[1152921504606846976]', 1],
    ['BOOL', '[1]', 1],
    ['FP32', '["nan"]', 1],
    ['FP32', '[null]', 1],
    ['FP32', '[{"a":1}]', 1],
    ['INT16', '["1"]', 1],
    ['FP32', '[1, 2, 3]', 4],
    ['FP32', '[[1, 2], [3]]', 4],
    ['INT32', '[1, 2, 3, 4, 5]', 2],
    ['FP32', '[1, "x", 3]', 2],
    ['FP16', '[1]', 1],
    ['BYTES', '["a"]', 1],
  ];
  for (const [datatype, text, count] of bad) {
    const fromJs = (() => {
      try {
        readJsonData(JSON.parse(text), datatype, count, 'x');
        return null;
      } catch (e) {
        return e as Error & { code: string };
      }
    })();
    const fromBytes = (() => {
      try {
        readJsonData(span(text), datatype, count, 'x');
        return null;
      } catch (e) {
        return e as Error & { code: string };
      }
    })();
    assert.ok(fromJs && fromBytes, `${datatype} ${text} must fail`);
    assert.equal(fromBytes.code, fromJs.code, `${datatype} ${text}: ${fromBytes.message}`);
    if (fromJs.code === 'INVALID_SHAPE') assert.equal(fromBytes.message, fromJs.message);
  }
});

test('data read on the way (datatype and shape first) and read later (data first) agree, errors included', () => {
  const first = '{"inputs":[{"name":"x","datatype":"INT32","shape":[2,2],"data":[[1,2],[3,4]]}]}';
  const later = '{"inputs":[{"data":[[1,2],[3,4]],"name":"x","datatype":"INT32","shape":[2,2]}]}';
  const options = { modelName: 'm', headerLength: '', describeModel: () => assert.fail() };
  for (const text of [first, later])
    assert.deepEqual(list(decodeInferRequest(bytes(text), options).request.inputs[0].data), [1, 2, 3, 4]);
  // A later duplicate "datatype" wins, as in JSON.parse: the early read is redone.
  const redone = '{"inputs":[{"name":"x","datatype":"INT32","shape":[2],"data":[1.5,2],"datatype":"FP32"}]}';
  assert.deepEqual(list(decodeInferRequest(bytes(redone), options).request.inputs[0].data), [1.5, 2]);
  // A bad value early in the data does not hide a syntax error later in the body.
  assert.equal(
    code(() =>
      decodeInferRequest(bytes('{"inputs":[{"name":"x","datatype":"INT32","shape":[1],"data":[1.5]}],}'), options),
    ),
    'INVALID_JSON',
  );
});

test('nesting is limited to 100 levels (data counted from itself), values outside data to MAX_JSON_VALUES', () => {
  const nest = (n: number, inner: string) => '['.repeat(n) + inner + ']'.repeat(n);
  assert.ok(readJson(bytes(nest(MAX_JSON_NESTING_DEPTH, '1'))));
  assert.equal(
    code(() => readJson(bytes(nest(MAX_JSON_NESTING_DEPTH + 1, '1')))),
    'INVALID_REQUEST',
  );
  assert.equal(span(nest(MAX_JSON_NESTING_DEPTH, '1')).count, 1);
  assert.equal(
    code(() => span(nest(MAX_JSON_NESTING_DEPTH + 1, '1'))),
    'INVALID_REQUEST',
  );
  // A million levels: refused at level 101, without recursion trouble.
  assert.equal(
    code(() => span(nest(1_000_000, ''))),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => readJson(bytes(nest(1_000_000, '')))),
    'INVALID_REQUEST',
  );
  const many = `[${'0,'.repeat(MAX_JSON_VALUES)}0]`;
  assert.match(
    String(
      (() => {
        try {
          readJson(bytes(many));
        } catch (e) {
          return (e as Error).message;
        }
      })(),
    ),
    /more than 65536 values/,
  );
  // Inside tensor data there is no such cap: only the shape decides.
  assert.equal(span(many).count, MAX_JSON_VALUES + 1);
});

// The bodies that froze the server: tens of MiB of empty arrays or objects
// inside `data`, or junk beside it. They are read without making JS values
// (the heap does not grow with them) and refused for what they are.
test('hostile bodies cost a scan, not the heap', () => {
  const MiB = 1 << 20;
  const options = { modelName: 'm', headerLength: '', describeModel: () => assert.fail() };
  const bodies: Array<[string, Buffer, string]> = [
    [
      'empty arrays in data',
      bytes(`{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[${'[],'.repeat((8 * MiB) / 3)}[]]}]}`),
      'INVALID_SHAPE',
    ],
    [
      'empty objects in data',
      bytes(`{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[${'{},'.repeat((8 * MiB) / 3)}{}]}]}`),
      'INVALID_REQUEST',
    ],
    [
      'zeros past the shape',
      bytes(`{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[${'0,'.repeat(4 * MiB)}0]}]}`),
      'INVALID_SHAPE',
    ],
    ['junk beside the inputs', bytes(`{"junk":[${'[],'.repeat((8 * MiB) / 3)}[]],"inputs":[]}`), 'INVALID_REQUEST'],
    ['a million outputs', bytes(`{"inputs":[],"outputs":[${'{},'.repeat(MiB)}{}]}`), 'INVALID_REQUEST'],
  ];
  for (const [name, body, expected] of bodies) {
    const before = process.memoryUsage().heapUsed;
    assert.equal(
      code(() => decodeInferRequest(body, options)),
      expected,
      name,
    );
    const grownMiB = (process.memoryUsage().heapUsed - before) / MiB;
    assert.ok(grownMiB < 32, `${name}: the heap grew by ${grownMiB.toFixed(0)} MiB`);
  }
});
