import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadFile, listFiles, repoExists } from '@huggingface/hub';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { generateTinySdxlRepo } from '@modular-diffusers/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modular, removeTempDirs, tempDir } from '../cli-test-kit.test-helpers.js';
import { buildPlugin } from './build.js';
import { createPlugin } from './create.js';

let server: HubServer;
let env: Record<string, string>;
let plugin: string;
const inRepo: string[] = [];

beforeAll(async () => {
  process.env.MODULAR_SANDBOX_CACHE ??= join(await tempDir('modular-sandbox-cache-'), 'libs');
  server = await startHubServer({ root: await tempDir('modular-hub-'), tokens: { hf_cli_publish: 'alice' } });
  env = { HF_ENDPOINT: server.url, HF_TOKEN: 'hf_cli_publish', HF_HUB_CACHE: await tempDir('modular-hf-cache-'), HF_HOME: await tempDir('modular-hf-home-') };
  plugin = (await createPlugin('shiny', { dir: await tempDir() })).dir;
  await buildPlugin(plugin, { componentsRepo: false });
});
afterAll(async () => {
  await server?.close();
  await Promise.all(inRepo.map((d) => rm(d, { recursive: true, force: true })));
  await removeTempDirs();
});

const hub = () => ({ hubUrl: server.url, accessToken: 'hf_cli_publish' });
async function repoFiles(repo: string, revision?: string): Promise<string[]> {
  const paths: string[] = [];
  for await (const f of listFiles({ repo, revision, ...hub() })) if (f.type === 'file') paths.push(f.path);
  return paths.sort();
}

describe('modular publish', () => {
  it('uploads dist-hub/ in one commit, fills the repo id into the model card, and prints the URL and commit', async () => {
    const result = await modular(['publish', plugin, '--repo', 'alice/shiny', '--skip-tests'], { env });
    expect(result.code).toBe(0);
    expect(result.err).toMatch(/WARNING: --skip-tests given: publishing WITHOUT running the plugin tests/);
    const commit = /commit\s+([0-9a-f]{40})/.exec(result.out)?.[1];
    expect(commit).toBeDefined();
    expect(result.out).toContain(`${server.url}/alice/shiny`);
    expect(await repoFiles('alice/shiny')).toEqual(['.gitattributes', 'README.md', 'mellon_pipeline_config.json', 'modular_config.json', 'modular_model_index.json', 'shiny.js']);
    const card = await (await downloadFile({ repo: 'alice/shiny', path: 'README.md', revision: commit, ...hub() }))!.text();
    expect(card).toContain("fromPretrained('alice/shiny', { trustRemoteCode: true })");
    expect(card).not.toContain('<this-repo>');
  });

  it('defaults the repo to <user>/<plugin name> and commits to a branch with --revision', async () => {
    const result = await modular(['publish', plugin, '--skip-tests', '--revision', 'dev'], { env });
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Published alice\/shiny@dev/);
    expect(await repoFiles('alice/shiny', 'dev')).toContain('shiny.js');
  });

  it('refuses an index naming a local folder for components, or puts the repo id named with --components-repo in its place', async () => {
    const tiny = join(await tempDir(), 'tiny-sdxl');
    await generateTinySdxlRepo(tiny, {});
    const local = (await createPlugin('local', { dir: await tempDir() })).dir;
    await buildPlugin(local, { componentsRepo: tiny });
    const refused = await modular(['publish', local, '--repo', 'alice/local', '--skip-tests'], { env });
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`dist-hub/modular_model_index.json names ${JSON.stringify(tiny)} (an absolute path on this machine) for scheduler, text_encoder, text_encoder_2, tokenizer, tokenizer_2, unet, vae: anyone loading the repo would fail`);
    expect(refused.err).toContain('Rebuild with --components-repo <owner/name>');
    expect(refused.err).toContain('Nothing was uploaded.');
    expect(await repoExists({ repo: 'alice/local', ...hub() })).toBe(false);

    const badId = await modular(['publish', local, '--repo', 'alice/local', '--skip-tests', '--components-repo', './models'], { env });
    expect(badId.code).toBe(2);
    expect(badId.err).toMatch(/--components-repo \.\/models: give a Hub repo id/);

    const rewritten = await modular(['publish', local, '--repo', 'alice/local', '--skip-tests', '--components-repo', 'modular-diffusers/tiny-sdxl'], { env });
    expect(rewritten.code).toBe(0);
    expect(rewritten.err).toContain('now name modular-diffusers/tiny-sdxl.');
    const index = JSON.parse(await (await downloadFile({ repo: 'alice/local', path: 'modular_model_index.json', ...hub() }))!.text());
    expect(index.unet[2].pretrained_model_name_or_path).toBe('modular-diffusers/tiny-sdxl');
    expect(index.unet[2].subfolder).toBe('unet');
    expect(JSON.stringify(index)).not.toContain(tiny);
  });

  it('refuses a plugin that was never built (exit 2) and a build older than its sources (exit 1)', async () => {
    const fresh = (await createPlugin('unbuilt', { dir: await tempDir() })).dir;
    const unbuilt = await modular(['publish', fresh, '--repo', 'alice/unbuilt', '--skip-tests'], { env });
    expect(unbuilt.code).toBe(2);
    expect(unbuilt.err).toMatch(/has no build .*run modular build first/);

    const stale = (await createPlugin('stale', { dir: await tempDir() })).dir;
    await buildPlugin(stale, { componentsRepo: false });
    await writeFile(join(stale, 'src', 'prompt-style-step.ts'), `${await readFile(join(stale, 'src', 'prompt-style-step.ts'), 'utf8')}\n// edited\n`);
    const result = await modular(['publish', stale, '--repo', 'alice/stale', '--skip-tests'], { env });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/out of date: the sources changed since modular build ran/);
    expect(await repoExists({ repo: 'alice/stale', ...hub() })).toBe(false);
  });

  it('runs the plugin tests first and publishes nothing when they fail', async () => {
    // Inside the repo, so the plugin resolves vitest and the engine packages like a workspace plugin.
    const base = join(import.meta.dirname, '..', '..', '.test-plugins');
    await mkdir(base, { recursive: true });
    const parent = await mkdtemp(join(base, 'run-'));
    inRepo.push(parent);
    const failing = (await createPlugin('failing', { dir: parent })).dir;
    const testFile = join(failing, 'src', 'prompt-style-step.test.ts');
    await writeFile(testFile, (await readFile(testFile, 'utf8')).replace("'a red apple, oil on canvas'", "'a red apple, in oil'"));
    await buildPlugin(failing, { componentsRepo: false });
    const result = await modular(['publish', failing, '--repo', 'alice/failing'], { env });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/Running the plugin tests/);
    expect(result.err).toMatch(/The plugin tests failed \(exit code 1\); nothing was published/);
    expect(await repoExists({ repo: 'alice/failing', ...hub() })).toBe(false);
  });
});
