// JWT bearer tokens (jose): HS256 with a secret, RS256/ES256 from a JWKS found
// through OIDC discovery on a local issuer; every refusal is a 401
// (docs/security.md "JWT").
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import { createDatabase, testServices } from './support/services';
import {
  addModelBytes,
  api,
  firstOutput,
  inferAdd,
  startRegistryServer,
  waitFor,
  type Harness,
} from './registry-support';

const services = testServices();
const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const ISSUER = 'https://issuer.test';
let hs: Harness;
let oidc: Harness;
let issuer: http.Server;
let issuerUrl = '';
let rsa: { privateKey: KeyLike; publicKey: KeyLike };
let ec: { privateKey: KeyLike; publicKey: KeyLike };

function hsToken(
  claims: Record<string, unknown>,
  opts: { secret?: string; iss?: string; aud?: string; exp?: number } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('user-1')
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? 'maas')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 300)
    .sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

before(async () => {
  rsa = await generateKeyPair('RS256');
  ec = await generateKeyPair('ES256');
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'r1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'e1', alg: 'ES256', use: 'sig' },
    ],
  };
  issuer = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration')
      res.end(JSON.stringify({ issuer: issuerUrl, jwks_uri: `${issuerUrl}/jwks` }));
    else if (req.url === '/jwks') res.end(JSON.stringify(jwks));
    else res.writeHead(404).end('{}');
  });
  await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', () => resolve()));
  issuerUrl = `http://127.0.0.1:${(issuer.address() as { port: number }).port}`;
  const url = await createDatabase(services.databaseUrl, 'jwt');
  hs = await startRegistryServer(url, { jwt: { secret: SECRET, issuer: ISSUER, audience: 'maas', clockSkewSecs: 5 } });
  oidc = await startRegistryServer(url, { jwt: { oidcIssuer: issuerUrl, audience: 'maas' } });
  assert.equal((await api(hs.url, 'POST', '/api/v1/tenants', hs.adminKey, { name: 'jt' })).status, 201);
});

after(async () => {
  await hs?.server.close();
  await oidc?.server.close();
  issuer?.close();
});

test('HS256: a valid token acts in its tenant with its role', async () => {
  const dev = await hsToken({ tenant: 'jt', role: 'developer' });
  assert.equal((await api(hs.url, 'POST', '/api/v1/models', dev, { name: 'jm' })).status, 201);
  assert.equal((await api(hs.url, 'PUT', '/api/v1/models/jm/versions/1', dev, addModelBytes(3))).status, 201);
  const r = await waitFor('jm served', async () => {
    const x = await inferAdd(hs.url, 'jm', dev);
    return x.status === 200 ? x : undefined;
  });
  assert.equal(firstOutput(r), 4);
  const viewer = await hsToken({ tenant: 'jt', role: 'viewer' });
  assert.equal((await api(hs.url, 'PUT', '/api/v1/models/jm/versions/2', viewer, addModelBytes(3))).status, 403);
  // Another tenant's token does not see it.
  const other = await hsToken({ tenant: 'nobody', role: 'owner' });
  assert.equal((await inferAdd(hs.url, 'jm', other)).status, 404);
});

test('HS256: wrong signature, issuer, audience, expiry, alg none, missing role are 401', async () => {
  const now = Math.floor(Date.now() / 1000);
  const bad = [
    await hsToken({ tenant: 'jt', role: 'owner' }, { secret: 'another-secret-another-secret-123' }),
    await hsToken({ tenant: 'jt', role: 'owner' }, { iss: 'https://evil.test' }),
    await hsToken({ tenant: 'jt', role: 'owner' }, { aud: 'someone-else' }),
    await hsToken({ tenant: 'jt', role: 'owner' }, { exp: now - 60 }),
    await hsToken({ tenant: 'jt' }),
    await hsToken({ tenant: 'jt', role: 'superuser' }),
    await hsToken({ role: 'owner' }),
  ];
  // alg none: an unsigned token with valid claims.
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  bad.push(
    `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ tenant: 'jt', role: 'admin', iss: ISSUER, aud: 'maas', exp: now + 300 })}.`,
  );
  // An RS256 token where HS256 is configured.
  bad.push(
    await new SignJWT({ tenant: 'jt', role: 'owner' })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISSUER)
      .setAudience('maas')
      .setExpirationTime(now + 300)
      .sign(rsa.privateKey),
  );
  for (const [i, token] of bad.entries()) {
    const r = await api(hs.url, 'GET', '/v2/models/fsmodel', token);
    assert.deepEqual([r.status, r.body.code], [401, 'UNAUTHENTICATED'], `token ${i}`);
  }
  // Within the clock skew an expired token still passes.
  const skewed = await hsToken({ tenant: 'jt', role: 'viewer' }, { exp: now - 2 });
  assert.equal((await api(hs.url, 'GET', '/v2/models/fsmodel', skewed)).status, 200);
});

test('RS256 and ES256 through OIDC discovery; a key not in the JWKS is 401', async () => {
  const now = Math.floor(Date.now() / 1000);
  for (const [alg, kid, key] of [
    ['RS256', 'r1', rsa.privateKey],
    ['ES256', 'e1', ec.privateKey],
  ] as const) {
    const token = await new SignJWT({ tenant: 'jt', role: 'viewer' })
      .setProtectedHeader({ alg, kid })
      .setSubject('svc')
      .setIssuer(issuerUrl)
      .setAudience('maas')
      .setExpirationTime(now + 300)
      .sign(key);
    const r = await api(oidc.url, 'GET', '/v2/models/fsmodel', token);
    assert.equal(r.status, 200, `${alg}: ${JSON.stringify(r.body)}`);
  }
  const stranger = await generateKeyPair('RS256');
  const forged = await new SignJWT({ tenant: 'jt', role: 'admin' })
    .setProtectedHeader({ alg: 'RS256', kid: 'r1' })
    .setIssuer(issuerUrl)
    .setAudience('maas')
    .setExpirationTime(now + 300)
    .sign(stranger.privateKey);
  assert.equal((await api(oidc.url, 'GET', '/v2/models/fsmodel', forged)).status, 401);
  // HS256 is not accepted where keys come from a JWKS.
  assert.equal(
    (await api(oidc.url, 'GET', '/v2/models/fsmodel', await hsToken({ tenant: 'jt', role: 'owner' }))).status,
    401,
  );
});
