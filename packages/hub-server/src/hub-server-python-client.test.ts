import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from './hub-server.js';
import type { ImportFolderResult } from './import-folder.js';
import { readmeMetadataErrors } from './validate-yaml.js';

// The requests Python's huggingface_hub sends, as it sends them (raw HTTP, the
// query strings `requests` builds), and the parts of the answers it reads.
// `npm run test:interop` runs the real Python client against the same routes.

const ALICE = 'hf_alice_write';
let server: HubServer;
let root: string;
let seeded: ImportFolderResult;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-py-'));
  const src = join(root, 'src');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'config.json'), '{"a":1}\n');
  await writeFile(join(src, 'model.onnx'), Buffer.alloc(5000, 3));
  server = await startHubServer({ root: join(root, 'store'), tokens: { [ALICE]: 'alice' }, lfsThresholdBytes: 1000 });
  seeded = await server.importFolder('alice/model', src);
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

const auth = { Authorization: `Bearer ${ALICE}` };

describe('what Python huggingface_hub reads from the server', () => {
  it('(1) a missing file answers 404 EntryNotFound with X-Repo-Commit, so Python can write .no_exist/<commit>/<path>', async () => {
    const head = await fetch(`${server.url}/alice/model/resolve/main/missing.txt`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(head.headers.get('x-error-code')).toBe('EntryNotFound');
    expect(head.headers.get('x-repo-commit')).toBe(seeded.commitOid);
    const get = await fetch(`${server.url}/alice/model/resolve/${seeded.commitOid}/sub/missing.txt`);
    expect(get.status).toBe(404);
    expect(get.headers.get('x-repo-commit')).toBe(seeded.commitOid);
  });

  it('(2) ?blobs=True (how requests encodes the boolean) gives sizes and LFS info', async () => {
    for (const flag of ['True', 'true', '1']) {
      const info = (await (await fetch(`${server.url}/api/models/alice/model?blobs=${flag}`)).json()) as { siblings: Record<string, unknown>[] };
      const onnx = info.siblings.find((s) => s.rfilename === 'model.onnx');
      expect(onnx, flag).toMatchObject({ size: 5000, lfs: { size: 5000 } });
    }
    const revision = (await (await fetch(`${server.url}/api/models/alice/model/revision/main?blobs=True`)).json()) as { siblings: Record<string, unknown>[] };
    expect(revision.siblings.find((s) => s.rfilename === 'config.json')).toMatchObject({ size: 8, blobId: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const plain = (await (await fetch(`${server.url}/api/models/alice/model?blobs=False`)).json()) as { siblings: Record<string, unknown>[] };
    expect(plain.siblings[0]).not.toHaveProperty('size');
  });

  it('(3) create_repo on an existing repo answers 409 with the repo url (create_repo(exist_ok=True) returns it)', async () => {
    const create = () =>
      fetch(`${server.url}/api/repos/create`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'again', organization: 'alice', private: false }) });
    expect((await create()).status).toBe(200);
    const second = await create();
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ url: `${server.url}/alice/again`, error: expect.stringContaining('already') });
  });

  it('(4) POST /api/validate-yaml accepts a model card and refuses broken metadata with errors: [{ message }]', async () => {
    const validate = (content: string) =>
      fetch(`${server.url}/api/validate-yaml`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ content, repoType: 'model' }) });
    const good = await validate('---\nlicense: apache-2.0\ntags:\n- modular-diffusers\n---\n# Card\n');
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual({ errors: [], warnings: [] });
    expect((await validate('# No metadata at all\n')).status).toBe(200);
    const bad = await validate('---\nlicense: apache-2.0\n# never closed\n');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/never closed/);
  });

  it('(4) reads front matter as a mapping', () => {
    expect(readmeMetadataErrors('---\n"quoted key": 1\nnested:\n  a: b\n---\n')).toEqual([]);
    expect(readmeMetadataErrors('---\njust a sentence\n---\n')).toHaveLength(1);
  });
});
