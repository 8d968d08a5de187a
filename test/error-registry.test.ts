// Keeps the error-code registry and the README's error table in step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERRORS, MaasError, toMaasError } from '../common/errors';

function readmeRows(): Map<string, number> {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const rows = new Map<string, number>();
  for (const m of readme.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) rows.set(m[1], Number(m[2]));
  return rows;
}

test('every registered error code is documented in the README with its HTTP status', () => {
  const rows = readmeRows();
  for (const [code, spec] of Object.entries(ERRORS)) {
    assert.equal(rows.get(code), spec.httpStatus, `README row for ${code}`);
  }
});

test('the README documents no code the registry lacks', () => {
  for (const code of readmeRows().keys())
    assert.ok(code in ERRORS, `${code} is in the README but not in common/errors.ts`);
});

test('MaasError carries the registry statuses; toMaasError keeps known codes only', () => {
  const e = new MaasError('QUEUE_FULL', 'full');
  assert.equal(e.httpStatus, 503);
  assert.equal(e.grpcStatus, 14);
  const engine = Object.assign(new Error('bad model'), { code: 'ENGINE_INVALID_MODEL' });
  assert.equal(toMaasError(engine).code, 'ENGINE_INVALID_MODEL');
  assert.equal(toMaasError(Object.assign(new Error('x'), { code: 'EPIPE' })).code, 'INTERNAL');
  assert.equal(toMaasError('text').message, 'text');
});

// The engine names its codes in C++ (StatusCodeName): each must be one the
// gateway knows, or it would reach clients as a bare INTERNAL.
test('every code the native engine can return is in the registry', () => {
  const source = readFileSync(path.join(__dirname, '..', '..', 'native', 'src', 'status.cc'), 'utf8');
  const names = [...source.matchAll(/return "([A-Z_]+)";/g)].map((m) => m[1]).filter((name) => name !== 'OK');
  assert.ok(names.length >= 8, `found ${names.join(', ')}`);
  for (const name of names) assert.ok(name in ERRORS, `${name} (native/src/status.cc) is not in common/errors.ts`);
  const js = readFileSync(path.join(__dirname, '..', '..', 'native', 'src', 'node', 'js_errors.h'), 'utf8');
  for (const m of js.matchAll(/Code = "([A-Z_]+)"/g)) assert.ok(m[1] in ERRORS, `${m[1]} (js_errors.h)`);
});
