import { existsSync, mkdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { HubStore, importFolderToHubStore, startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { CliUsageError } from '../errors.js';

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

/**
 * Repos `--seed` can put on a fresh Hub, by name: what the README's commands need on a machine
 * without the real Hub. Each is generated here (no download) and imported in one commit.
 */
export const HUB_SEEDS = {
  /** The tiny random-weight SDXL repo with the real ONNX I/O signatures, as `npm run demo` serves it. */
  'tiny-sdxl': {
    repo: 'modular-diffusers/tiny-sdxl',
    async generate(dir: string): Promise<void> {
      const { generateTinySdxlRepo } = await import('@modular-diffusers/runtime');
      // The demo's setting: the tiny UNet keeps nearly clean latents, so the kept part of a picture shows.
      await generateTinySdxlRepo(dir, { unetPriorStd: 0.5 });
    },
  },
} as const;

export type HubSeedName = keyof typeof HUB_SEEDS;

function parseSeedName(value: string, previous: HubSeedName[] = []): HubSeedName[] {
  if (!Object.hasOwn(HUB_SEEDS, value)) throw new InvalidArgumentError(`unknown seed '${value}'; the seeds are: ${Object.keys(HUB_SEEDS).join(', ')}.`);
  return [...previous, value as HubSeedName];
}

export interface HubServeOptions {
  port: number;
  host: string;
  token?: Record<string, string>;
  /** Repos to put on the Hub before it starts listening (kept when already there). */
  seed?: HubSeedName[];
  /** Called with what was seeded, before the server listens. */
  log?: (line: string) => void;
  /** The address clients use when it is not a loopback name (a reverse proxy in front). */
  publicUrl?: string;
}

function hubFolder(folder: string): string {
  const root = resolve(folder);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new CliUsageError(`${root} is a file; give a folder to keep the Hub's repos in (it is created if missing).`);
  }
  mkdirSync(root, { recursive: true });
  return root;
}

/** Puts the named seeds into the Hub folder; a repo already there is left as it is. */
export async function seedHub(root: string, seeds: readonly HubSeedName[], log: (line: string) => void = () => {}): Promise<void> {
  if (seeds.length === 0) return;
  const store = await HubStore.open(root);
  for (const name of seeds) {
    const seed = HUB_SEEDS[name];
    const [namespace, repoName] = seed.repo.split('/') as [string, string];
    if (await store.getRepo({ type: 'model', namespace, name: repoName } as never)) {
      log(`${seed.repo} is already on this Hub (seed ${name}); kept as it is.`);
      continue;
    }
    const dir = await mkdtemp(join(tmpdir(), `modular-seed-${name}-`));
    try {
      await seed.generate(dir);
      const imported = await importFolderToHubStore(store, seed.repo, dir, { commitTitle: `Seed ${name}` });
      log(`Seeded ${seed.repo}@${imported.commitOid.slice(0, 8)} (${imported.files} files).`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** Starts the server (after seeding) and resolves once it listens; the caller decides when to close it. */
export async function serveHub(folder: string, options: HubServeOptions): Promise<HubServer> {
  const root = hubFolder(folder);
  await seedHub(root, options.seed ?? [], options.log);
  try {
    return await startHubServer({ root, port: options.port, host: options.host, tokens: options.token, publicUrl: options.publicUrl });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliUsageError(
        `Port ${options.port} on ${options.host} is already in use (another \`modular hub serve\`?). ` +
          `Stop that one, or pick another port with --port (0 picks a free one) and set HF_ENDPOINT to match.`,
      );
    }
    throw error;
  }
}

/**
 * Resolves when the process should stop: on SIGINT or SIGTERM, or when its parent goes away. Under
 * `npx modular hub serve ... &`, `kill $!` stops npx, whose child (this process) would otherwise
 * live on with no one to stop it; a changed parent pid means it was orphaned.
 */
function untilStopped(): Promise<void> {
  return new Promise((done) => {
    const parent = process.ppid;
    const timer = setInterval(() => {
      if (process.ppid !== parent) stop();
    }, 250);
    const stop = () => {
      clearInterval(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', stop);
  });
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
    .option('--seed <name>', `put a repo on the Hub before it starts, unless it is there already (repeatable): ${Object.entries(HUB_SEEDS).map(([n, s]) => `${n} (${s.repo})`).join(', ')}`, parseSeedName)
    .option('--public-url <url>', 'the address clients use behind a reverse proxy; requests naming any other host than loopback and this are refused')
    .action(async (folder: string, options: HubServeOptions) => {
      const server = await serveHub(folder, { ...options, log: (line) => io.out(`${line}\n`) });
      io.out(`Hub serving ${server.root} at ${server.url}\n`);
      io.out(`Point clients at it with HF_ENDPOINT=${server.url}\n`);
      await untilStopped();
      await server.close();
    });
  hub
    .command('import')
    .description("Put a local folder's files on a Hub folder as one commit of a repo (the server may be running or not).")
    .argument('<folder>', 'the files of the repo (e.g. a model export)')
    .requiredOption('--repo <owner/name>', 'the repo to create or update')
    .requiredOption('--hub <folder>', 'the Hub folder (the one `modular hub serve` serves)')
    .option('--revision <branch>', 'the branch to commit to (default main)')
    .action(async (folder: string, options: { repo: string; hub: string; revision?: string }) => {
      const source = resolve(folder);
      if (!existsSync(source) || !statSync(source).isDirectory()) throw new CliUsageError(`${source} is not a folder; give the folder that holds the repo's files.`);
      const imported = await importFolderToHubStore(hubFolder(options.hub), options.repo, source, { revision: options.revision });
      io.out(`Imported ${imported.files} files into ${imported.repo}@${imported.revision} (commit ${imported.commitOid.slice(0, 8)}).\n`);
    });
}
