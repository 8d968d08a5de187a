// Small assertions shared by unit tests.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { MaasError } from '../../common/errors';
import type { NumericArray } from '../../gateway/inference/datatypes';

// A typed array's elements as a plain array, for deepEqual.
export function list(data: ArrayLike<number | bigint> | NumericArray): Array<number | bigint> {
  return Array.from(data as ArrayLike<number | bigint>);
}

// The MaasError code that fn throws; fails when it throws nothing else.
export function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MaasError, `expected MaasError, got ${inspect(err)}`);
    return err.code;
  }
  assert.fail('expected a throw');
}
