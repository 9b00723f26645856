/**
 * The README's "same steps by hand" block, run as the README shows it: extracted from README.md and
 * given to bash from the repository root, line by line as written, after what the Quickstart's first
 * command leaves behind (the guide's input pictures in out/demo/, written by the demo's own code).
 * Only the environment is the test's: a fresh HF_HOME (cache and remote-code lock) and no Hub settings.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadImage } from '@modular-diffusers/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { writeGuideImages } from '../../scripts/demo-images.js';
import { REPO_ROOT, workDir } from './e2e-kit.js';

/** The first ```sh block under the "same steps by hand" heading. */
export async function readmeByHandBlock(): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('The same steps by hand'));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no ```sh block under "## The same steps by hand"');
  return block;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

// What the block creates in the checkout; removed afterwards (each is gitignored or a new folder).
const CREATED = ['my-hub', join('plugins', 'my-style'), join('out', 'diffdiff_out.png')];
const existedBefore = new Set(CREATED.filter((p) => existsSync(join(REPO_ROOT, p))));
let group: number | undefined;

afterAll(async () => {
  // The block stops its Hub with `kill $!`; a failed run may not have got there.
  if (group !== undefined) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // The process group is gone already.
    }
  }
  for (const path of CREATED) if (!existedBefore.has(path)) await rm(join(REPO_ROOT, path), { recursive: true, force: true });
});

describe("the README's by-hand block", () => {
  it('runs top to bottom as written: a seeded Hub, create, build, publish, inspect, run, and kill $! stops the Hub', async () => {
    expect([...existedBefore], 'remove these leftovers of an earlier run first').toEqual([]);
    expect(await portFree(8080), 'the block serves on port 8080; stop whatever listens there').toBe(true);
    const block = await readmeByHandBlock();
    expect(block).toContain('--seed tiny-sdxl &');
    expect(block).toContain('kill $!');

    // What `npm ci && npm run demo` leaves for the block: the guide's pictures where the README says.
    const demoOut = join(REPO_ROOT, 'out', 'demo');
    await mkdir(demoOut, { recursive: true });
    if (!existsSync(join(demoOut, 'apple.png')) || !existsSync(join(demoOut, 'gradient_mask.png'))) await writeGuideImages(demoOut, 256);

    const home = await workDir();
    const env: Record<string, string | undefined> = { ...process.env, HF_HOME: join(home, 'hf-home'), FORCE_COLOR: '0', CI: '1' };
    for (const key of ['HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_CACHE', 'HF_HUB_OFFLINE', 'HF_TOKEN_PATH']) delete env[key];
    const result = await new Promise<{ code: number | null; out: string }>((done, fail) => {
      // -e: the first failing line fails the test, as it would stop a reader.
      const child = spawn('bash', ['-e', '-c', block], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      group = child.pid;
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('error', fail);
      child.on('close', (code) => done({ code, out }));
    });
    expect(result.code, result.out.slice(-4000)).toBe(0);
    expect(result.out).toMatch(/Seeded modular-diffusers\/tiny-sdxl@[0-9a-f]{8}/);
    expect(result.out).toMatch(/Hub serving .*my-hub at http:\/\/127\.0\.0\.1:8080/);
    expect(result.out).toMatch(/Wrote .*out\/diffdiff_out\.png/);
    // `modular inspect`: SDXL's blocks need the prompt (unless embeddings are given), so it is listed as required.
    expect(result.out).toMatch(/- `prompt` \(`[^`]*`\): .*\(required unless `prompt_embeds` and `pooled_prompt_embeds` are given\)/);
    const image = await loadImage(join(REPO_ROOT, 'out', 'diffdiff_out.png'));
    expect([image.width, image.height]).toEqual([256, 256]);

    // `kill $!` stopped the Hub: the port is free again.
    const deadline = Date.now() + 10_000;
    while (!(await portFree(8080)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await portFree(8080)).toBe(true);
    await rm(home, { recursive: true, force: true });
  }, 600_000);
});
