// Keeps the error-code registry, the README's error table and the engine's
// status codes in step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERRORS, MaasError, toMaasError } from '../common/errors';
import { engineTables } from '../native';

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

// The engine names its codes in C++ (StatusCodeName, js_errors.h); the addon
// reports them (engineTables). Both directions: every code the engine can hand to
// JS is registered (else it would reach clients as a bare INTERNAL), and every ENGINE_* code registered is one it can hand.
test("the engine's status codes and the registry's ENGINE_* codes are the same set", () => {
  const fromEngine = new Set(engineTables().statusCodes);
  for (const code of fromEngine) assert.ok(code in ERRORS, `${code} (the addon) is not in common/errors.ts`);
  const engineCodes = Object.keys(ERRORS).filter((code) => code.startsWith('ENGINE_'));
  for (const code of engineCodes)
    assert.ok(fromEngine.has(code), `${code} is registered but the engine never returns it`);
  assert.ok(fromEngine.has('OUTPUT_TOO_LARGE'));
});
