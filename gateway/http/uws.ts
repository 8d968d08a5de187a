// Loads the uWebSockets.js native binary. The package's own entry point
// silently falls back to a slow pure-JS implementation when the binary does
// not match this Node; we would rather fail at start-up with a clear message.
import type * as UWS from '@trufflesuite/uws-js-unofficial';

export type UwsModule = typeof UWS;
export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from '@trufflesuite/uws-js-unofficial';

let cached: UwsModule | undefined;

export function binaryName(): string {
  return `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
}

export function loadUws(): UwsModule {
  if (cached) return cached;
  const file = `@trufflesuite/uws-js-unofficial/binaries/${binaryName()}`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the binary's name depends on the platform and Node ABI, known only at run time
    cached = require(file) as UwsModule;
  } catch (err) {
    throw new Error(
      `cannot load the uWebSockets.js native binary ${file} ` +
        `(platform ${process.platform}, arch ${process.arch}, Node ABI ${process.versions.modules}, Node ${process.version}): ` +
        `${(err as Error).message}. Use a Node.js version the package ships a binary for (ABI 93, 108 or 115: ` +
        `Node 16, 18 or 20) on linux/darwin/win32, or reinstall @trufflesuite/uws-js-unofficial.`,
      { cause: err },
    );
  }
  return cached;
}
