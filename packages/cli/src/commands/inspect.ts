/**
 * `modular inspect <repo-or-path>`: what a pipeline repo holds, without
 * running any of its code unless `--trust-remote-code` is given. A repo
 * without code is built from registered (installed) blocks classes and shown
 * in full; a repo with code shows only what it declares, and how to trust it.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ModularPipeline, ModularPipelineBlocks } from '@modular-diffusers/core';
import {
  fetchRepoFiles,
  MODEL_INDEX_FILE,
  MODULAR_CONFIG_FILE,
  MODULAR_MODEL_INDEX_FILE,
  parseModularConfig,
  blocksCodeEntry,
  RemoteCodeNotTrustedError,
  type HubEnv,
} from '@modular-diffusers/hub';
import { MELLON_PIPELINE_CONFIG_FILE, parseMellonPipelineConfig } from '../plugin/mellon-pipeline-config.js';
import type { CliIo } from '../program.js';
import { composeModelFamilies } from '../model-families.js';

export interface InspectOptions {
  revision?: string;
  trustRemoteCode?: boolean;
  env?: HubEnv;
}

export interface InspectResult {
  /** True when blocks were built (registered classes, or trusted code in the sandbox). */
  built: boolean;
  /** True when the repo ships code that was NOT run. */
  untrustedCode: boolean;
  text: string;
}

/** Registers the Hub integration and the CLI's model families (model-families.ts) before a repo is read. */
export async function loadModelFamilies(): Promise<void> {
  await composeModelFamilies();
}

function structure(blocks: ModularPipelineBlocks, doc: string): string {
  return `${blocks.toString()}\n\n${doc.trimEnd()}\n`;
}

export async function inspectRepo(repo: string, options: InspectOptions = {}): Promise<InspectResult> {
  await loadModelFamilies();
  const access = { revision: options.revision, env: options.env };
  if (options.trustRemoteCode) {
    // Inspecting loads no component, so an index naming local folders reads nothing here: its
    // locations are printed, not resolved.
    const pipeline = await ModularPipeline.fromPretrained(repo, { ...access, trustRemoteCode: true, allowLocalComponents: true });
    try {
      const declared = await describeDeclarations(repo, options);
      return { built: true, untrustedCode: false, text: `${declared}\n${structure(pipeline.blocks, pipeline.doc)}` };
    } finally {
      await (pipeline as { dispose?: () => Promise<void> }).dispose?.();
    }
  }
  let blocks: ModularPipelineBlocks;
  try {
    blocks = await ModularPipelineBlocks.fromPretrained(repo, access);
  } catch (error) {
    if (!(error instanceof RemoteCodeNotTrustedError)) throw error;
    const declared = await describeDeclarations(repo, options);
    const pin = /commit ([0-9a-f]{40})/.exec(error.message)?.[1] ?? null;
    const trust =
      '\nNothing from this repo was run: its blocks are JavaScript that runs only when you trust it.\n' +
      'Read the bundle first, then see its structure and doc with:\n' +
      `  modular inspect ${repo}${pin ? ` --revision ${pin}` : options.revision ? ` --revision ${options.revision}` : ''} --trust-remote-code\n`;
    return { built: false, untrustedCode: true, text: `${declared}${trust}` };
  }
  const declared = await describeDeclarations(repo, options);
  return { built: true, untrustedCode: false, text: `${declared}\n${structure(blocks, blocks.doc)}` };
}

/** What the repo's JSON files and model card say, read as data. */
async function describeDeclarations(repo: string, options: InspectOptions): Promise<string> {
  const fetched = await fetchRepoFiles({
    repo,
    revision: options.revision,
    env: options.env,
    allowPatterns: [MODULAR_CONFIG_FILE, MODULAR_MODEL_INDEX_FILE, MODEL_INDEX_FILE, 'README.md', MELLON_PIPELINE_CONFIG_FILE],
  });
  const read = async (path: string) => {
    const file = fetched.files.find((f) => f.path === path);
    return file ? readFile(file.localPath, 'utf8') : null;
  };
  const lines: string[] = [`Repo: ${repo}${fetched.commit ? ` @ ${fetched.commit}` : ' (local folder)'}`];

  const configText = await read(MODULAR_CONFIG_FILE);
  if (configText) {
    const raw = JSON.parse(configText) as Record<string, unknown>;
    const config = parseModularConfig(raw, repo);
    const entry = blocksCodeEntry(config, repo);
    lines.push(`Blocks class: ${config.className ?? '(not named)'}`);
    if (entry) {
      lines.push(`Code: ${entry.file}, export ${entry.exportName}, sha256 ${entry.declaredSha256 ?? '(not declared)'}`);
    } else {
      lines.push('Code: none (the blocks are an installed, registered class)');
    }
    const plugin = raw.plugin as { name?: string; version?: string } | undefined;
    if (plugin?.name) lines.push(`Plugin: ${plugin.name}@${plugin.version ?? '?'}`);
    const npm = Object.entries(config.npmRequirements);
    if (npm.length > 0) lines.push(`Requirements: ${npm.map(([k, v]) => `${k}@${v}`).join(', ')}`);
    const python = Object.entries(config.requirements);
    if (python.length > 0) lines.push(`Python requirements: ${python.map(([k, v]) => `${k}${v}`).join(', ')}`);
  }

  const indexFile = (await read(MODULAR_MODEL_INDEX_FILE)) !== null ? MODULAR_MODEL_INDEX_FILE : MODEL_INDEX_FILE;
  const indexText = await read(indexFile);
  if (indexText) {
    const index = JSON.parse(indexText) as Record<string, unknown>;
    lines.push(`Pipeline class: ${String(index._class_name ?? '?')} (${indexFile})`);
    const components: string[] = [];
    const configs: string[] = [];
    for (const [name, value] of Object.entries(index)) {
      if (name.startsWith('_')) continue;
      if (Array.isArray(value)) components.push(`  ${name.padEnd(18)} ${describeEntry(name, value, repo)}`);
      else configs.push(`  ${name} = ${JSON.stringify(value)}`);
    }
    if (components.length > 0) lines.push('Components:', ...components);
    if (configs.length > 0) lines.push('Configs:', ...configs);
  }

  const card = await read('README.md');
  const inputs = card ? (section(card, 'Inputs') ?? boldSection(card, 'Inputs')) : null;
  if (inputs) lines.push('Inputs (from the model card):', ...inputs.split('\n').map((l) => (l ? `  ${l}` : l)));
  const mellonText = await read(MELLON_PIPELINE_CONFIG_FILE);
  if (mellonText !== null) {
    const mellon = parseMellonPipelineConfig(JSON.parse(mellonText), repo);
    const nodes = Object.entries(mellon.node_params).filter(([, n]) => n !== null);
    lines.push(
      `Mellon: ${MELLON_PIPELINE_CONFIG_FILE} (${mellon.label || 'no label'}, ${mellon.default_dtype || 'no default dtype'}): ` +
        (nodes.length > 0 ? nodes.map(([type, n]) => (n!.block_name === type ? type : `${type} (step ${n!.block_name})`)).join(', ') : 'no nodes'),
    );
  }
  return `${lines.join('\n')}\n`;
}

function describeEntry(name: string, entry: unknown[], repo: string): string {
  const spec = (entry[2] ?? null) as Record<string, unknown> | null;
  const typeHint = Array.isArray(spec?.type_hint) ? String(spec.type_hint[1] ?? '') : '';
  const className = (typeof entry[1] === 'string' ? entry[1] : typeHint) || '?';
  // A standard model_index.json entry ([library, class]) is a subfolder of the repo itself.
  if (!spec) return `${className.padEnd(30)} ${repo}/${name}`;
  const source = (spec.pretrained_model_name_or_path ?? spec.repo) as string | null | undefined;
  const where = source
    ? `${source}${spec.subfolder ? `/${String(spec.subfolder)}` : ''}${spec.revision ? `@${String(spec.revision)}` : ''}`
    : '(no source: set it with updateComponents)';
  return `${className.padEnd(30)} ${where}`;
}

/** The body of a `## <title>` section of a markdown file. */
/** diffusers' card lists inputs under a bold `**Inputs:**` line, up to the blank line before `**Outputs:**` or a heading. */
function boldSection(markdown: string, title: string): string | null {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === `**${title}:**`);
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && (/^\*\*[^*]+:\*\*$/.test(l.trim()) || /^#{1,3} /.test(l) || l.startsWith('<details>')));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n').trim();
}

function section(markdown: string, title: string): string | null {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${title}`);
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && /^#{1,2} /.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n').trim();
}

export function registerInspectCommand(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description("Show a pipeline repo's structure and doc; code in the repo runs only with --trust-remote-code.")
    .argument('<repo-or-path>', 'a Hub repo id (owner/name) or a local folder')
    .option('--revision <revision>', 'a branch, tag or commit')
    .option('--trust-remote-code', "run the repo's blocks (in the sandbox) to show their structure and doc")
    .action(async (repo: string, options: { revision?: string; trustRemoteCode?: boolean }) => {
      const result = await inspectRepo(repo, { ...options, env: io.env });
      io.out(result.text);
    });
}
