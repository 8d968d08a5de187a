// Starts a server as a child process and waits for its "listening on" line,
// so the load generator never shares an event loop (or a core's JS thread)
// with the server it measures.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface ChildServer {
  name: string;
  url: string; // http://HOST:PORT
  pid: number;
  stop(): Promise<void>;
}

const LISTENING = /listening on (http:\/\/[^\s"]+:\d+)/;
const READY_TIMEOUT_MS = 60_000; // the engine loads models before it listens
const STOP_GRACE_MS = 10_000;
const LOG_TAIL_LINES = 40;

export async function startChildServer(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ChildServer> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logTail: string[] = [];
  const remember = (line: string) => {
    logTail.push(line);
    if (logTail.length > LOG_TAIL_LINES) logTail.shift();
  };
  createInterface({ input: child.stderr }).on('line', remember);
  const stdout = createInterface({ input: child.stdout });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`not listening after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    const onLine = (line: string) => {
      remember(line);
      const match = LISTENING.exec(line);
      if (match) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(new Error(`exited before listening (code ${code}, signal ${signal})`));
    const onError = (err: Error) => fail(err);
    function cleanup() {
      clearTimeout(timer);
      stdout.off('line', onLine);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    function fail(err: Error) {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${name}: ${err.message}\n--- last output ---\n${logTail.join('\n')}`));
    }
    stdout.on('line', onLine);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  // Keep draining stdout so a chatty server never blocks on a full pipe.
  stdout.on('line', remember);

  return { name, url, pid: child.pid!, stop: () => stopChild(child) };
}

// SIGTERM (graceful close), then SIGKILL if it does not exit in time.
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
