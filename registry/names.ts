// What the registry accepts as a name, in one place (the migration's CHECKs
// say the same). Names end up in URLs, object-store keys and log lines: only
// letters, digits and a few separators, no '/', no leading dot, so neither
// path traversal nor SQL or shell metacharacters can get through (every query
// is parameterised anyway).
import { MaasError } from '../common/errors';

const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const ALIAS_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const VERSION = /^[1-9][0-9]{0,14}$/;
const KEY_NAME = /^[\x20-\x7e]{0,100}$/;

function check(kind: string, value: unknown, pattern: RegExp, rule: string): string {
  if (typeof value !== 'string' || !pattern.test(value))
    throw new MaasError('INVALID_NAME', `${kind} must be ${rule}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  return value;
}

export const tenantName = (v: unknown): string =>
  check('a tenant name', v, TENANT_NAME, "1-63 of a-z, 0-9, '_', '-', starting with a letter or digit");
export const modelName = (v: unknown): string =>
  check('a model name', v, MODEL_NAME, "1-128 of A-Z, a-z, 0-9, '_', '.', '-', starting with a letter or digit");
export const aliasName = (v: unknown): string =>
  check('an alias', v, ALIAS_NAME, "1-63 of A-Z, a-z, 0-9, '_', '-', starting with a letter");
export const versionNumber = (v: unknown): number =>
  Number(check('a version', typeof v === 'number' ? String(v) : v, VERSION, 'a positive integer'));
export const keyName = (v: unknown): string =>
  check('a key name', v, KEY_NAME, 'at most 100 printable ASCII characters');

export function isModelName(v: string): boolean {
  return MODEL_NAME.test(v);
}
