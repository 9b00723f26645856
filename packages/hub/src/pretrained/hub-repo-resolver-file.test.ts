import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EntryNotFoundError } from '../cache/hub-errors.js';
import { HubRepoResolver } from './hub-repo-resolver.js';
import { RepoConfigError } from './pretrained-errors.js';
import { startHubFixture, type HubFixture } from './pretrained-fixtures.test-helpers.js';

// resolveFile: an adapter loader's one weights file out of a folder of many (h94/IP-Adapter's sdxl_models),
// downloaded alone through the real @huggingface/hub client against the project's Hub server.

let hub: HubFixture;
const REPO = 'h94/ip-adapter-like';

beforeAll(async () => {
  hub = await startHubFixture();
  await hub.seed(REPO, {
    'sdxl_models/ip-adapter_sdxl.safetensors': 'adapter',
    'sdxl_models/ip-adapter_sdxl.bin': 'pickle',
    'sdxl_models/ip-adapter-plus_sdxl_vit-h.safetensors': 'plus',
    'sdxl_models/image_encoder/config.json': '{}',
  });
});
afterAll(() => hub.close());

it('downloads only the named file of the folder and returns its path in the snapshot', async () => {
  const fresh = hub.fresh();
  const resolver = new HubRepoResolver({ hubUrl: hub.server.url, ...fresh });
  const location = { repo: REPO, subfolder: 'sdxl_models', revision: null, variant: null };
  const path = await resolver.resolveFile(location, 'ip-adapter_sdxl.safetensors');
  expect(await readFile(path, 'utf8')).toBe('adapter');
  expect(path.endsWith(join('sdxl_models', 'ip-adapter_sdxl.safetensors'))).toBe(true);
  expect((await readdir(join(path, '..'))).sort()).toEqual(['ip-adapter_sdxl.safetensors']);
});

it('names the missing file, and refuses a file name that leaves the repo', async () => {
  const resolver = new HubRepoResolver({ hubUrl: hub.server.url, ...hub.fresh() });
  const location = { repo: REPO, subfolder: 'sdxl_models', revision: null, variant: null };
  const missing = await resolver.resolveFile(location, 'ip-adapter_sd15.safetensors').catch((e: unknown) => e);
  expect(missing).toBeInstanceOf(EntryNotFoundError);
  expect((missing as Error).message).toContain('sdxl_models/ip-adapter_sd15.safetensors');
  await expect(resolver.resolveFile(location, '../../etc/passwd')).rejects.toBeInstanceOf(RepoConfigError);
});
