// The baseline: a bare uWebSockets.js server that answers every POST with a
// small JSON body after reading the request body. It bounds what the gateway
// could reach on this machine with the same HTTP stack and no inference work.
// Run as its own process:  node dist/bench/uws-hello.js [PORT]   (0 = ephemeral)
import type * as UWS from '@trufflesuite/uws-js-unofficial';

// Same strict load as the gateway: the package's entry point falls back to a
// slow pure-JS server on an ABI mismatch, which would make the baseline lie.
function loadUwsBinary(): typeof UWS {
  const file = `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the binary's name is known only at run time
  return require(file) as typeof UWS;
}

const HOST = '127.0.0.1';
const REPLY = JSON.stringify({ model_name: 'hello', outputs: [] });

function main(): void {
  const uws = loadUwsBinary();
  const port = Number(process.argv[2] ?? 0);
  const app = uws.App().post('/*', (res) => {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    // Drain the body (as the gateway must) before answering.
    res.onData((_chunk, isLast) => {
      if (!isLast || aborted) return;
      res.cork(() => {
        res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').end(REPLY);
      });
    });
  });
  app.listen(HOST, port, (token) => {
    if (!token) {
      process.stderr.write(`uws-hello: cannot listen on ${HOST}:${port}\n`);
      process.exit(1);
    }
    const boundPort = uws.us_socket_local_port(token);
    // Same ready line shape as `maas serve`, so one launcher serves both.
    process.stdout.write(`${JSON.stringify({ msg: `uws-hello listening on http://${HOST}:${boundPort}` })}\n`);
    const stop = () => {
      uws.us_listen_socket_close(token);
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

main();
