import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { generateTinySdxlRepo } from '@modular-diffusers/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modular, removeTempDirs, tempDir } from '../cli-test-kit.test-helpers.js';
import { buildPlugin } from './build.js';
import { createPlugin } from './create.js';
import { remoteCodeLock } from './trust.js';

// `modular run` against the local Hub with a trusted plugin whose main branch moves on, and the
// `modular trust` commands that show and revoke the pin.

let hub: HubServer;
let env: Record<string, string>;
let plugin: string;
let first: string;
let out: string;

beforeAll(async () => {
  const work = await tempDir();
  const tiny = join(work, 'tiny-sdxl');
  await generateTinySdxlRepo(tiny, {});
  hub = await startHubServer({ root: join(work, 'hub') });
  await hub.importFolder('org/tiny-sdxl', tiny);
  env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(work, 'hf-cache'), HF_HOME: join(work, 'hf-home'), MODULAR_SANDBOX_CACHE: join(work, 'sandbox-libraries') };
  const created = (await createPlugin('pinned', { dir: work })).dir;
  plugin = (await buildPlugin(created, { componentsRepo: 'org/tiny-sdxl', env })).outDir;
  first = (await hub.importFolder('org/pinned', plugin)).commitOid;
  out = await tempDir();
});
afterAll(async () => {
  await hub?.close();
  await removeTempDirs();
});

const run = (file: string, ...extra: string[]) =>
  modular(['run', 'org/pinned', '--trust-remote-code', '--prompt', 'a pear', '--out', join(out, file), '--steps', '2', '--set', 'height=64', '--set', 'width=64', ...extra], { env });

describe('modular run and modular trust', () => {
  it('pins on first trust, refuses the moved branch naming --update-trust, accepts it with the flag; show and revoke the pin', async () => {
    const ran = await run('first.png');
    expect(ran.err).not.toMatch(/Error/);
    expect(ran.code).toBe(0);
    const listed = await modular(['trust', 'list'], { env });
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(`Remote-code lock: ${remoteCodeLock(env).path}`);
    expect(listed.out).toMatch(new RegExp(`org/pinned\\s+${first}\\s+main`));

    // The author publishes a new commit; another client refreshes the cached ref.
    const config = JSON.parse(await readFile(join(plugin, 'modular_config.json'), 'utf8'));
    await writeFile(join(plugin, 'modular_config.json'), JSON.stringify({ ...config, note: 'a new release' }));
    const second = (await hub.importFolder('org/pinned', plugin)).commitOid;
    await rm(join(env.HF_HUB_CACHE!, 'models--org--pinned', 'refs', 'main'));
    const refused = await run('refused.png');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`resolves to commit ${second}`);
    expect(refused.err).toContain(`trusts commit ${first}`);
    expect(refused.err).toContain('changed files: modular_config.json');
    expect(refused.err).toContain('add --update-trust');

    const updated = await run('updated.png', '--update-trust');
    expect(updated.code).toBe(0);
    const shown = await modular(['trust', 'show', 'org/pinned'], { env });
    expect(shown.out).toMatch(new RegExp(`commit\\s+${second}`));
    expect(shown.out).toMatch(/[0-9a-f]{64}  modular_config\.json/);
    expect(shown.out).toMatch(/[0-9a-f]{64}  pinned\.js/);

    const revoked = await modular(['trust', 'revoke', 'org/pinned'], { env });
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain(`Revoked the pin of org/pinned (commit ${second})`);
    expect((await modular(['trust', 'list'], { env })).out).toContain('No repo is pinned');
    const again = await modular(['trust', 'revoke', 'org/pinned'], { env });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/org\/pinned is not pinned in .*remote-code\.lock\.json; `modular trust list` shows/);
  });
});
