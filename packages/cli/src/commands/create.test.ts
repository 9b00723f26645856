import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modular, removeTempDirs, tempDir } from '../cli-test-kit.test-helpers.js';
import { constantCase, pascalCase, validatePluginName } from '../plugin/plugin-name.js';
import { createPlugin } from './create.js';

afterAll(removeTempDirs);

describe('plugin names', () => {
  it('accepts npm-style names and derives class and constant prefixes', () => {
    expect(validatePluginName('my-style')).toBe('my-style');
    expect(pascalCase('my-style')).toBe('MyStyle');
    expect(constantCase('my-style')).toBe('MY_STYLE');
    expect(pascalCase('3d-look')).toBe('P3dLook');
  });

  it.each([
    ['MyStyle', /must be lowercase/],
    ['@me/style', /give the bare name/],
    ['.hidden', /dot or an underscore/],
    ['sp ace', /leading or trailing spaces|not url-safe/],
    ['a!b', /not url-safe/],
    ['123', /at least one letter/],
  ])("refuses '%s' with a message that says why", (name, why) => {
    expect(() => validatePluginName(name)).toThrow(why);
  });
});

describe('modular create', () => {
  it('scaffolds the template with its names filled in, and prints the next steps', async () => {
    const dir = await tempDir();
    const result = await modular(['create', 'my-style', '--dir', dir]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Created @modular-diffusers\/plugin-my-style/);
    expect(result.out).toMatch(/npm install[\s\S]*modular build[\s\S]*modular publish/);
    const root = join(dir, 'my-style');
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('@modular-diffusers/plugin-my-style');
    expect(pkg.private).toBeUndefined();
    expect(pkg.modular.blocks).toBe('MyStyleBlocks');
    expect(pkg.dependencies['@modular-diffusers/core']).toBe('0.1.0');
    const presets = await readFile(join(root, 'src', 'presets.ts'), 'utf8');
    expect(presets).toContain('export class MyStyleBlocks');
    expect(presets).toContain('MY_STYLE_BLOCKS');
    for (const file of await readdir(join(root, 'src'))) {
      expect(await readFile(join(root, 'src', file), 'utf8')).not.toMatch(/BlockPlugin|BLOCK_PLUGIN|block-plugin/);
    }
    expect(existsSync(join(root, 'node_modules'))).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['my-style']);
  });

  it('refuses to overwrite an existing folder (exit code 2) and changes nothing', async () => {
    const dir = await tempDir();
    await createPlugin('taken', { dir });
    const before = await readFile(join(dir, 'taken', 'package.json'), 'utf8');
    const again = await modular(['create', 'taken', '--dir', dir]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already exists; pick another name, or remove that folder first/);
    expect(await readFile(join(dir, 'taken', 'package.json'), 'utf8')).toBe(before);
  });

  it('answers a bad name and a missing template with exit code 2', async () => {
    const dir = await tempDir();
    const bad = await modular(['create', 'Bad_Name', '--dir', dir]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/not a valid plugin name/);
    const noTemplate = await modular(['create', 'ok', '--dir', dir, '--template', join(dir, 'nowhere')]);
    expect(noTemplate.code).toBe(2);
    expect(noTemplate.err).toMatch(/template was not found/);
    expect((await readdir(dir)).length).toBe(0);
  });
});
