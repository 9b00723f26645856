import { existsSync, mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { startHubServer, type HubServer } from '@modular-diffusers/hub';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('the port must be an integer from 0 to 65535 (0 picks a free one).');
  }
  return port;
}

function parseToken(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) {
    throw new InvalidArgumentError(`expected TOKEN=USER (e.g. hf_team=alice), got '${value}'.`);
  }
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

export interface HubServeOptions {
  port: number;
  host: string;
  token?: Record<string, string>;
  /** The address clients use when it is not a loopback name (a reverse proxy in front). */
  publicUrl?: string;
}

/** Starts the server and resolves once it listens; the caller decides when to close it. */
export async function serveHub(folder: string, options: HubServeOptions): Promise<HubServer> {
  const root = resolve(folder);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new Error(`${root} is a file; give a folder to keep the Hub's repos in (it is created if missing).`);
  }
  mkdirSync(root, { recursive: true });
  return startHubServer({ root, port: options.port, host: options.host, tokens: options.token, publicUrl: options.publicUrl });
}

export function registerHubCommands(program: Command, io: { out: (text: string) => void }): void {
  const hub = program.command('hub').description('Work with a local Hugging Face Hub-compatible server.');
  hub
    .command('serve')
    .description('Serve a folder as a Hub (repos, revisions, downloads, uploads) on loopback, for air-gapped teams and tests.')
    .argument('<folder>', 'where the repos live (created if missing; kept across restarts)')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', parsePort, 8080)
    .option('--host <host>', 'loopback address to bind', '127.0.0.1')
    .option('--token <token=user>', 'accept this access token as this user (repeatable)', parseToken)
    .option('--public-url <url>', 'the address clients use behind a reverse proxy; requests naming any other host than loopback and this are refused')
    .action(async (folder: string, options: HubServeOptions) => {
      const server = await serveHub(folder, options);
      io.out(`Hub serving ${server.root} at ${server.url}\n`);
      io.out(`Point clients at it with HF_ENDPOINT=${server.url}\n`);
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
