// API key secrets (docs/security.md "API keys"): `maas_<prefix>_<secret>`,
// where the prefix (8 random base64url characters) is stored in clear and
// shown in listings, and the secret is 256 random bits (43 base64url
// characters). Only SHA-256(secret) is stored; a presented key is looked up
// by its prefix and its hash compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_SCHEME = 'maas_';
const FORMAT = /^maas_([A-Za-z0-9_-]{8})_([A-Za-z0-9_-]{43})$/;

export interface NewKey {
  key: string; // shown once
  prefix: string; // 'maas_' + 8 characters: what listings show
  secretSha256: Buffer;
}

export function makeKey(): NewKey {
  // A prefix of 6 random bytes never contains the '_' separator ambiguity:
  // the format is fixed-length on both sides.
  const id = randomBytes(6).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { key: `${KEY_SCHEME}${id}_${secret}`, prefix: `${KEY_SCHEME}${id}`, secretSha256: sha256(secret) };
}

// null when the token is not shaped like one of our keys.
export function parseKey(token: string): { prefix: string; secretSha256: Buffer } | null {
  const m = FORMAT.exec(token);
  return m ? { prefix: `${KEY_SCHEME}${m[1]}`, secretSha256: sha256(m[2]) } : null;
}

export function sameSecret(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
