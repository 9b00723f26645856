/**
 * `modular publish [dir]`: uploads `dist-hub/` to a Hub repo in ONE commit,
 * after checking that the build matches the sources and that the plugin's
 * tests pass. Token from HF_TOKEN or the token file, Hub from HF_ENDPOINT.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createBranch, createRepo, HubApiError, uploadFiles, whoAmI } from '@huggingface/hub';
import type { Command } from 'commander';
import { HubUnauthorizedError, localReason, MODULAR_CONFIG_FILE, MODULAR_MODEL_INDEX_FILE, pushToHub, resolveHubConfig, type FolderFile, type HubEnv } from '@modular-diffusers/hub';
import { CliError, CliUsageError } from '../errors.js';
import { BUILD_INFO_FILE, DIST_HUB, readBuildInfo } from '../plugin/build-info.js';
import { readPluginPackage } from '../plugin/plugin-package.js';
import { runPluginTests } from '../plugin/run-plugin-tests.js';
import { hashPluginSources } from '../plugin/source-hash.js';
import type { CliIo } from '../program.js';

export interface PublishPluginOptions {
  repo?: string;
  private?: boolean;
  /** A branch to commit to (created from main when missing); default the main branch. */
  revision?: string;
  skipTests?: boolean;
  /**
   * A Hub repo id to put in place of local folders the build's model index names for components
   * (e.g. a build made with `--components-repo ./my-export`); without it such an index is refused.
   */
  componentsRepo?: string;
  env?: HubEnv;
  /** Told what is happening (checks, tests, upload). */
  log?: (line: string) => void;
}

export interface PublishedPlugin {
  repo: string;
  repoUrl: string;
  commit: string;
  revision: string;
  files: string[];
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;
const REPO_PLACEHOLDER = '<this-repo>';

async function checkBuild(dir: string): Promise<{ files: FolderFile[] }> {
  const plugin = await readPluginPackage(dir);
  const info = await readBuildInfo(plugin.dir);
  if (!info) throw new CliUsageError(`${plugin.dir} has no build (${DIST_HUB}/${BUILD_INFO_FILE} is missing); run modular build first.`);
  const now = await hashPluginSources(plugin.dir);
  if (now !== info.sourcesSha256) {
    throw new CliError(`The build in ${DIST_HUB}/ is out of date: the sources changed since modular build ran (${info.builtAt}). Run modular build again, then publish.`);
  }
  const outDir = join(plugin.dir, DIST_HUB);
  const names = (await readdir(outDir, { withFileTypes: true })).filter((e) => e.isFile() && e.name !== BUILD_INFO_FILE).map((e) => e.name).sort();
  const files: FolderFile[] = [];
  for (const name of names) files.push({ path: name, content: await readFile(join(outDir, name)) });
  const bundle = files.find((f) => f.path === info.bundle.file);
  const config = files.find((f) => f.path === MODULAR_CONFIG_FILE);
  const bundleSha = bundle ? createHash('sha256').update(bundle.content).digest('hex') : null;
  const declared = config ? (JSON.parse(Buffer.from(config.content).toString('utf8')) as { bundle?: { sha256?: string } }).bundle?.sha256 : undefined;
  if (!bundle || !config || bundleSha !== info.bundle.sha256 || declared !== bundleSha) {
    throw new CliError(`${DIST_HUB}/ was changed after modular build (the bundle or ${MODULAR_CONFIG_FILE} no longer match); run modular build again.`);
  }
  return { files };
}

async function defaultRepo(shortName: string, env: HubEnv | undefined): Promise<string> {
  const config = resolveHubConfig({ env });
  if (!config.accessToken) {
    throw new CliUsageError('Name the repo with --repo owner/name (or "modular.repo" in package.json), and give a write token with HF_TOKEN.');
  }
  const me = await whoAmI({ hubUrl: config.hubUrl, accessToken: config.accessToken });
  return `${me.name}/${shortName}`;
}

/** Commits to a branch other than main: the same one commit, through @huggingface/hub. */
async function pushToBranch(repo: string, branch: string, files: FolderFile[], options: PublishPluginOptions, message: string): Promise<{ repoUrl: string; commit: string }> {
  const config = resolveHubConfig({ env: options.env });
  if (!config.accessToken) throw new HubUnauthorizedError(repo, 'publishing needs a write token: set HF_TOKEN, or log in so $HF_HOME/token exists.');
  const credentials = { hubUrl: config.hubUrl, accessToken: config.accessToken };
  let repoUrl = `${config.hubUrl}/${repo}`;
  try {
    repoUrl = (await createRepo({ ...credentials, repo, ...(options.private !== undefined ? { visibility: options.private ? 'private' : 'public' } : {}) })).repoUrl;
  } catch (error) {
    if (!(error instanceof HubApiError && error.statusCode === 409)) throw error;
  }
  try {
    await createBranch({ ...credentials, repo, branch });
  } catch (error) {
    if (!(error instanceof HubApiError && error.statusCode === 409)) throw error;
  }
  const output = await uploadFiles({
    ...credentials,
    repo,
    branch,
    commitTitle: message,
    useXet: false,
    files: files.map((f) => ({ path: f.path, content: new Blob([typeof f.content === 'string' ? f.content : new Uint8Array(f.content)]) })),
  });
  if (!output) throw new CliError(`Uploading to ${repo}@${branch} returned no commit; check that HF_ENDPOINT (${config.hubUrl}) is a Hugging Face Hub.`);
  return { repoUrl, commit: output.commit.oid };
}

/**
 * A published index must name Hub repos for its components: a folder on this machine (what a build
 * with `--components-repo ./path` writes) would fail for everyone else. With `componentsRepo` the
 * local locations become that repo id; without it they are refused, before tests or uploads.
 */
async function checkComponentLocations(files: FolderFile[], componentsRepo: string | undefined, log: (line: string) => void): Promise<FolderFile[]> {
  if (componentsRepo !== undefined && !REPO_ID.test(componentsRepo)) {
    throw new CliUsageError(`--components-repo ${componentsRepo}: give a Hub repo id (owner/name), e.g. stabilityai/stable-diffusion-xl-base-1.0.`);
  }
  const file = files.find((f) => f.path === MODULAR_MODEL_INDEX_FILE);
  if (!file) return files;
  const index = JSON.parse(Buffer.from(file.content).toString('utf8')) as Record<string, unknown>;
  const local = new Map<string, { reason: string; names: string[] }>();
  for (const [name, entry] of Object.entries(index)) {
    if (name.startsWith('_') || !Array.isArray(entry) || entry.length !== 3 || entry[2] === null || typeof entry[2] !== 'object') continue;
    const spec = entry[2] as Record<string, unknown>;
    const location = typeof spec.pretrained_model_name_or_path === 'string' ? spec.pretrained_model_name_or_path : null;
    if (location === null) continue;
    const reason = await localReason(location);
    if (!reason) continue;
    local.set(location, { reason, names: [...(local.get(location)?.names ?? []), name] });
    if (componentsRepo !== undefined) spec.pretrained_model_name_or_path = componentsRepo;
  }
  if (local.size === 0) return files;
  const described = [...local].map(([location, { reason, names }]) => `${JSON.stringify(location)} (${reason}) for ${names.join(', ')}`).join('; ');
  if (componentsRepo === undefined) {
    throw new CliUsageError(
      `${DIST_HUB}/${MODULAR_MODEL_INDEX_FILE} names ${described}: anyone loading the repo would fail to find those components. ` +
        `Rebuild with --components-repo <owner/name> (the Hub repo holding the models), or publish with --components-repo <owner/name> to put that repo id in their place. Nothing was uploaded.`,
    );
  }
  log(`Components that named ${described} now name ${componentsRepo}.`);
  return files.map((f) => (f === file ? { path: f.path, content: Buffer.from(`${JSON.stringify(index, null, 2)}\n`) } : f));
}

export async function publishPlugin(dir: string, options: PublishPluginOptions = {}): Promise<PublishedPlugin> {
  const log = options.log ?? (() => {});
  const plugin = await readPluginPackage(dir);
  const built = await checkBuild(plugin.dir);
  const files = await checkComponentLocations(built.files, options.componentsRepo, log);
  log(`Build of ${plugin.packageName}@${plugin.version} is up to date.`);
  if (options.skipTests) {
    log('WARNING: --skip-tests given: publishing WITHOUT running the plugin tests. Users will run code nobody tested.');
  } else {
    log('Running the plugin tests (vitest run) ...');
    const result = await runPluginTests(plugin.dir, { ...process.env, ...options.env });
    if (!result.ok) {
      const tail = result.output.trim().split('\n').slice(-25).join('\n');
      throw new CliError(`The plugin tests failed (exit code ${result.exitCode}); nothing was published. Fix them and run modular publish again.\n${tail}`);
    }
    log('Tests passed.');
  }
  const repo = options.repo ?? plugin.modular.repo ?? (await defaultRepo(plugin.shortName, options.env));
  if (!REPO_ID.test(repo)) throw new CliUsageError(`'${repo}' is not a repo id; give owner/name, e.g. --repo alice/${plugin.shortName}.`);
  // The model card was written before the repo was known.
  const upload = files.map((f) => (f.path === 'README.md' ? { path: f.path, content: Buffer.from(f.content).toString('utf8').split(REPO_PLACEHOLDER).join(repo) } : f));
  const message = `Publish ${plugin.packageName}@${plugin.version}`;
  log(`Uploading ${upload.length} files to ${repo}${options.revision ? `@${options.revision}` : ''} in one commit ...`);
  const pushed = options.revision
    ? await pushToBranch(repo, options.revision, upload, options, message)
    : await pushToHub({ repoId: repo, files: upload, private: options.private, env: options.env, commitMessage: message });
  return { repo, repoUrl: pushed.repoUrl, commit: pushed.commit, revision: options.revision ?? 'main', files: upload.map((f) => f.path) };
}

export function registerPublishCommand(program: Command, io: CliIo): void {
  program
    .command('publish')
    .description('Upload a built plugin (dist-hub/) to a Hub repo in one commit, after checking the build is current and the tests pass.')
    .argument('[dir]', 'the plugin folder', '.')
    .option('--repo <owner/name>', 'the Hub repo (default: package.json modular.repo, else <your user>/<plugin name>)')
    .option('--private', 'create the repo as private')
    .option('--revision <branch>', 'commit to this branch (created from main if missing)')
    .option('--skip-tests', 'publish without running the plugin tests (not recommended)')
    .option('--components-repo <owner/name>', "the Hub repo to name in place of local folders the build's model index points components at")
    .action(async (dir: string, options: { repo?: string; private?: boolean; revision?: string; skipTests?: boolean; componentsRepo?: string }) => {
      const published = await publishPlugin(resolve(io.cwd ?? process.cwd(), dir), {
        repo: options.repo,
        componentsRepo: options.componentsRepo,
        private: options.private,
        revision: options.revision,
        skipTests: options.skipTests,
        env: io.env,
        log: (line) => io.err(`${line}\n`),
      });
      io.out(`Published ${published.repo}@${published.revision}\n`);
      io.out(`  url     ${published.repoUrl}\n`);
      io.out(`  commit  ${published.commit}\n`);
      io.out(`Load it with: modular run ${published.repo} --trust-remote-code --prompt "..." --out out.png\n`);
    });
}
