// JWT bearer tokens (jose): HS256 with a shared secret, or RS256/ES256 with
// keys from a JWKS URL, given directly or found through OIDC discovery
// (<issuer>/.well-known/openid-configuration → jwks_uri). Issuer, audience,
// expiry and not-before are checked with a clock skew allowance; `alg: none`
// and any algorithm not configured are refused by jose before any key is
// used. Tenant and role come from configurable claims. docs/security.md "JWT".
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export interface JwtOptions {
  secret?: string; // HS256
  jwksUrl?: string; // RS256 / ES256
  oidcIssuer?: string; // discovery: the JWKS URL from the issuer's metadata (also the expected issuer)
  issuer?: string;
  audience?: string;
  clockSkewSecs?: number; // default 30
  tenantClaim?: string; // default 'tenant'
  roleClaim?: string; // default 'role'
}

export interface JwtIdentity {
  subject: string;
  tenant: string | null;
  role: unknown;
}

export class JwtVerifier {
  private readonly secret: Uint8Array | null;
  private jwks: JWTVerifyGetKey | null = null;
  private discovering: Promise<JWTVerifyGetKey> | null = null;

  constructor(private readonly options: JwtOptions) {
    this.secret = options.secret ? new TextEncoder().encode(options.secret) : null;
    if (options.jwksUrl) this.jwks = createRemoteJWKSet(new URL(options.jwksUrl));
  }

  get enabled(): boolean {
    return this.secret !== null || this.options.jwksUrl !== undefined || this.options.oidcIssuer !== undefined;
  }

  // Throws (any error) when the token is not valid; the caller maps that to 401.
  async verify(token: string): Promise<JwtIdentity> {
    const o = this.options;
    const common = {
      issuer: o.issuer ?? o.oidcIssuer,
      audience: o.audience,
      clockTolerance: o.clockSkewSecs ?? 30,
      requiredClaims: ['exp'],
    };
    let payload: JWTPayload;
    if (this.secret) {
      ({ payload } = await jwtVerify(token, this.secret, { ...common, algorithms: ['HS256'] }));
    } else {
      const keys = this.jwks ?? (await this.discover());
      ({ payload } = await jwtVerify(token, keys, { ...common, algorithms: ['RS256', 'ES256'] }));
    }
    const tenant = payload[o.tenantClaim ?? 'tenant'];
    return {
      subject: `jwt:${payload.sub ?? ''}`,
      tenant: typeof tenant === 'string' ? tenant : null,
      role: payload[o.roleClaim ?? 'role'],
    };
  }

  private discover(): Promise<JWTVerifyGetKey> {
    const issuer = this.options.oidcIssuer;
    if (!issuer) throw new Error('no JWT key configured');
    this.discovering ??= (async () => {
      const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`OIDC discovery at ${url} answered ${response.status}`);
      const meta = (await response.json()) as { jwks_uri?: unknown };
      if (typeof meta.jwks_uri !== 'string') throw new Error(`OIDC discovery at ${url} has no jwks_uri`);
      this.jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
      return this.jwks;
    })();
    // A failed discovery is tried again by the next token.
    this.discovering.catch(() => {
      this.discovering = null;
    });
    return this.discovering;
  }
}
