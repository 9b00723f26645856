/**
 * A Hub on this machine (`modular hub serve ... &` in the line before) may still be starting, or
 * seeding its repos, when the next command runs. Commands that talk to the Hub wait for a loopback
 * HF_ENDPOINT to accept connections, for a while, instead of failing on a refused connection.
 */
import { connect } from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The host and port of HF_ENDPOINT when it is an http URL on loopback, else null. */
export function loopbackEndpoint(env: Readonly<Record<string, string | undefined>>): { host: string; port: number; url: string } | null {
  const raw = env.HF_ENDPOINT?.trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' || !LOOPBACK.has(url.hostname)) return null;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80), url: raw };
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.setTimeout(2000, () => finish(false));
  });
}

/**
 * Resolves once the loopback Hub accepts a connection (at once when it already does, or when
 * HF_ENDPOINT is not on loopback); after `timeoutMs` it says that nothing answers and resolves, so
 * the command reports its own error.
 */
export async function waitForLocalHub(
  env: Readonly<Record<string, string | undefined>>,
  log: (line: string) => void,
  timeoutMs = 60_000,
): Promise<void> {
  const endpoint = loopbackEndpoint(env);
  if (!endpoint || (await accepts(endpoint.host, endpoint.port))) return;
  log(`Waiting for the Hub at ${endpoint.url} (HF_ENDPOINT) to start ...\n`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    if (await accepts(endpoint.host, endpoint.port)) return;
  }
  log(
    `Nothing answers at ${endpoint.url} (HF_ENDPOINT). Start the Hub with \`npx modular hub serve ./my-hub --port ${endpoint.port} &\`, ` +
      'or unset HF_ENDPOINT to use huggingface.co.\n',
  );
}
