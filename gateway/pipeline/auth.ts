// The authentication step: who is calling, and may they do this operation
// on this model? A port with an in-process default that lets everyone in as
// ANONYMOUS; the registry's adapter (API keys, JWTs, roles) replaces it.
//
// Contract for adapters:
// - authenticate() gets the credentials exactly as the front end received
//   them (a bearer token from an HTTP Authorization header, gRPC
//   `authorization` metadata or a WebSocket token; null when absent) and the
//   call (operation, model); it returns the Principal, synchronously when it
//   can (a cached key) or as a Promise (a database look-up).
// - It refuses by throwing (or rejecting with) a MaasError: 401-class for
//   missing or bad credentials, 403-class for a role that may not; the front
//   end maps the code through the error registry like any other failure.
// - It never logs or keeps the raw credentials.
import { ANONYMOUS, type CallContext, type Principal } from '../inference/call';

export interface Authenticator {
  authenticate(credentials: string | null, call: CallContext): Principal | Promise<Principal>;
}

// Everyone is ANONYMOUS and may do everything (`npm start`'s all-in-one
// default until the registry's auth lands).
export const allowAnonymous: Authenticator = {
  authenticate: () => ANONYMOUS,
};
