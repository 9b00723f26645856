/**
 * `modular create <name>`: a new plugin package copied from
 * templates/block-plugin with its names filled in. The template is itself a
 * workspace package that builds and tests green, so the copy does too.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliUsageError } from '../errors.js';
import { constantCase, pascalCase, validatePluginName } from '../plugin/plugin-name.js';
import { defaultTemplateDir, findWorkspaceRoot } from '../plugin/workspace.js';
import type { CliIo } from '../program.js';

export interface CreatePluginOptions {
  /** The folder the plugin folder goes into (default `plugins` under the workspace root, else the cwd). */
  dir?: string;
  /** The template to copy (default: the monorepo's templates/block-plugin). */
  templateDir?: string;
  cwd?: string;
}

export interface CreatedPlugin {
  name: string;
  packageName: string;
  dir: string;
  /** Repo-relative paths of the files written. */
  files: string[];
}

// Build and test output of the template itself, never copied.
const SKIPPED = new Set(['node_modules', 'dist', 'dist-hub', '.turbo', '.vitest-report.json', '.build-info.json']);
const TEXT_FILE = /\.(ts|js|json|md|txt)$|^\.gitignore$/;

export async function createPlugin(name: string, options: CreatePluginOptions = {}): Promise<CreatedPlugin> {
  validatePluginName(name);
  const cwd = options.cwd ?? process.cwd();
  const templateDir = resolve(options.templateDir ?? defaultTemplateDir());
  if (!existsSync(join(templateDir, 'package.json'))) {
    throw new CliUsageError(`The plugin template was not found at ${templateDir}; pass --template <folder> (a copy of templates/block-plugin).`);
  }
  const parent = resolve(cwd, options.dir ?? join(findWorkspaceRoot(cwd) ?? cwd, 'plugins'));
  const target = join(parent, name);
  if (existsSync(target)) {
    throw new CliUsageError(`${target} already exists; pick another name, or remove that folder first (nothing was changed).`);
  }
  const replacements: Array<[string, string]> = [
    ['@modular-diffusers/template-block-plugin', `@modular-diffusers/plugin-${name}`],
    ['BlockPlugin', pascalCase(name)],
    ['BLOCK_PLUGIN', constantCase(name)],
    ['block-plugin', name],
  ];
  // Assemble beside the target and rename once, so a failure never leaves half a plugin.
  await mkdir(parent, { recursive: true });
  const staging = join(parent, `.${name}.creating-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  const files: string[] = [];
  try {
    await cp(templateDir, staging, { recursive: true, filter: (src) => !SKIPPED.has(basename(src)) });
    for (const file of await listFiles(staging)) {
      files.push(relative(staging, file).split('\\').join('/'));
      if (!TEXT_FILE.test(basename(file))) continue;
      const text = await readFile(file, 'utf8');
      const filled = replacements.reduce((t, [from, to]) => t.split(from).join(to), text);
      if (filled !== text) await writeFile(file, filled);
    }
    await publishablePackageJson(join(staging, 'package.json'));
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { name, packageName: `@modular-diffusers/plugin-${name}`, dir: target, files: files.sort() };
}

/** The template is private (it is never published to npm); a plugin made from it may be. */
async function publishablePackageJson(file: string): Promise<void> {
  const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  delete json.private;
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

export function registerCreateCommand(program: Command, io: CliIo): void {
  program
    .command('create')
    .description('Scaffold a new block plugin from templates/block-plugin: a block, a preset, a test, a README.')
    .argument('<name>', "the plugin's name: lowercase, url-safe (e.g. my-style); the package is @modular-diffusers/plugin-<name>")
    .option('--dir <folder>', 'where the plugin folder goes (default: plugins/ of the workspace)')
    .option('--template <folder>', 'the template to copy (default: templates/block-plugin)')
    .action(async (name: string, options: { dir?: string; template?: string }) => {
      const created = await createPlugin(name, { dir: options.dir, templateDir: options.template, cwd: io.cwd });
      const shown = relative(io.cwd ?? process.cwd(), created.dir) || '.';
      io.out(`Created ${created.packageName} in ${shown} (${created.files.length} files).\n\n`);
      io.out('Next steps:\n');
      io.out(`  npm install                 # link the new workspace package\n`);
      io.out(`  cd ${shown}\n`);
      io.out(`  npx vitest run              # its test passes as created\n`);
      io.out(`  modular build               # bundle it into dist-hub/ for the Hub\n`);
      io.out(`  modular publish --repo <you>/${name}\n`);
      if (!findWorkspaceRoot(dirname(created.dir))) {
        io.out(`\nNote: ${shown} is not inside an npm workspace; add its dependencies with npm install before building.\n`);
      }
    });
}
