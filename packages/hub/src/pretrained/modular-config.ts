import { DIFFUSERS_FORMAT_VERSION, flattenRequirements, isNpmRange } from '@modular-diffusers/core';
import { RepoConfigError } from './pretrained-errors.js';

export const MODULAR_CONFIG_FILE = 'modular_config.json';

/** The `auto_map` key diffusers (and we) look up to find a repo's blocks code. */
export const BLOCKS_AUTO_MAP_KEY = 'ModularPipelineBlocks';

/**
 * A block repo's `modular_config.json`, diffusers' format plus where the
 * JavaScript bundle is and which npm packages it needs:
 *
 * ```json
 * {
 *   "_class_name": "DiffDiffBlocks",
 *   "_diffusers_version": "0.40.0.dev0",
 *   "auto_map": { "ModularPipelineBlocks": "block.DiffDiffBlocks" },
 *   "npm_requirements": { "@modular-diffusers/sdxl": "^0.1.0" },
 *   "bundle": { "file": "block.js", "sha256": "<hex>" }
 * }
 * ```
 *
 * `requirements` is diffusers' key and holds Python (PEP 440) specifiers only:
 * diffusers validates every entry as PEP 440 and refuses the repo otherwise,
 * so npm ranges live under `npm_requirements`. (Repos written before this
 * split carried npm ranges under `requirements`; those are read as npm.)
 *
 * `auto_map` values are `<module>.<export>` as in diffusers, where the module
 * is the bundle's path without `.js` (`block.DiffDiffBlocks` -> `block.js`,
 * export `DiffDiffBlocks`). `bundle` is optional; when it gives a sha256 the
 * file must hash to it.
 */
export interface ModularConfig {
  className: string | null;
  diffusersVersion: string | null;
  autoMap: Record<string, string>;
  /** Python packages (PEP 440), diffusers' `requirements`. */
  requirements: Record<string, string>;
  /** npm packages and their semver ranges, `npm_requirements`. */
  npmRequirements: Record<string, string>;
  bundle: { file: string; sha256: string | null } | null;
  /** Every other key, kept as it is. */
  extra: Record<string, unknown>;
}

/** What the `ModularPipelineBlocks` entry of `auto_map` points at. */
export interface BlocksCodeEntry {
  /** The bundle's path inside the repo. */
  file: string;
  /** The export of the bundle holding the blocks (a class or a preset). */
  exportName: string;
  /** The sha256 `modular_config.json` declares for the file, if any. */
  declaredSha256: string | null;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Validates parsed `modular_config.json` content; `repo` only labels errors. */
export function parseModularConfig(content: unknown, repo: string): ModularConfig {
  const fail = (problem: string): never => {
    throw new RepoConfigError(repo, MODULAR_CONFIG_FILE, problem);
  };
  if (content === null || typeof content !== 'object' || Array.isArray(content)) fail('it must be a JSON object');
  const { _class_name, _diffusers_version, auto_map, requirements, npm_requirements, bundle, ...extra } = content as Record<string, unknown>;
  const config: ModularConfig = { className: null, diffusersVersion: null, autoMap: {}, requirements: {}, npmRequirements: {}, bundle: null, extra };
  if (_class_name !== undefined && _class_name !== null) {
    if (typeof _class_name !== 'string') fail('"_class_name" must be a string');
    config.className = _class_name as string;
  }
  if (typeof _diffusers_version === 'string') config.diffusersVersion = _diffusers_version;
  config.autoMap = stringRecord(auto_map, 'auto_map', fail);
  config.npmRequirements = stringRecord(npm_requirements, 'npm_requirements', fail);
  for (const [pkg, spec] of Object.entries(stringRecord(requirements, 'requirements', fail))) {
    if (isNpmRange(spec) || pkg.startsWith('@')) config.npmRequirements[pkg] ??= spec;
    else config.requirements[pkg] = spec;
  }
  if (bundle !== undefined && bundle !== null) {
    const b = bundle as Record<string, unknown>;
    if (typeof b !== 'object' || Array.isArray(b) || typeof b.file !== 'string' || b.file === '') {
      fail('"bundle" must be { "file": "<path>.js", "sha256": "<64 hex>" }');
    }
    if (b.sha256 !== undefined && b.sha256 !== null && (typeof b.sha256 !== 'string' || !SHA256.test(b.sha256))) {
      fail('"bundle.sha256" must be 64 lowercase hex characters (the sha256 of the bundle file)');
    }
    config.bundle = { file: b.file as string, sha256: (b.sha256 as string | undefined) ?? null };
  }
  return config;
}

/** The bundle and export the config's `auto_map` names for blocks, or null when the repo has no code. */
export function blocksCodeEntry(config: ModularConfig, repo: string): BlocksCodeEntry | null {
  const target = config.autoMap[BLOCKS_AUTO_MAP_KEY];
  if (target === undefined) {
    // Code that is declared but not for blocks must still not slip through as "no code".
    const others = Object.keys(config.autoMap);
    if (others.length > 0) {
      throw new RepoConfigError(
        repo,
        MODULAR_CONFIG_FILE,
        `"auto_map" names ${others.map((k) => `"${k}"`).join(', ')} but not "${BLOCKS_AUTO_MAP_KEY}", the only entry this version can load`,
      );
    }
    return null;
  }
  const dot = target.lastIndexOf('.');
  if (dot <= 0 || dot === target.length - 1) {
    throw new RepoConfigError(repo, MODULAR_CONFIG_FILE, `auto_map "${BLOCKS_AUTO_MAP_KEY}" is "${target}"; it must be "<module>.<export>", e.g. "block.MyBlocks" for block.js`);
  }
  const file = `${target.slice(0, dot)}.js`;
  const exportName = target.slice(dot + 1);
  if (config.bundle && config.bundle.file !== file) {
    throw new RepoConfigError(repo, MODULAR_CONFIG_FILE, `auto_map points at ${file} but "bundle.file" is ${config.bundle.file}; they must name the same file`);
  }
  return { file, exportName, declaredSha256: config.bundle?.sha256 ?? null };
}

export interface BuildModularConfigInput {
  className: string;
  diffusersVersion?: string | null;
  /** Python packages (PEP 440 specifiers), written as diffusers' `requirements`. */
  requirements?: Record<string, string>;
  /** npm packages and semver ranges, written as `npm_requirements`. */
  npmRequirements?: Record<string, string>;
  /** The bundle, when the blocks came from one: its repo path, sha256 and the export holding the blocks. */
  bundle?: { file: string; sha256: string; exportName: string } | null;
}

/** `modular_config.json` content with sorted keys, as diffusers writes it. */
export function buildModularConfig(input: BuildModularConfigInput): Record<string, unknown> {
  const out: Record<string, unknown> = {
    _class_name: input.className,
    _diffusers_version: input.diffusersVersion ?? DIFFUSERS_FORMAT_VERSION,
  };
  if (input.bundle) {
    if (!input.bundle.file.endsWith('.js')) throw new RepoConfigError('(saving)', MODULAR_CONFIG_FILE, `the bundle file ${input.bundle.file} must end in .js`);
    out.auto_map = { [BLOCKS_AUTO_MAP_KEY]: `${input.bundle.file.slice(0, -3)}.${input.bundle.exportName}` };
    out.bundle = { file: input.bundle.file, sha256: input.bundle.sha256 };
  }
  const python = flattenRequirements(input.requirements ?? {}, 'python');
  if (Object.keys(python).length > 0) out.requirements = sortedRecord(python);
  if (input.npmRequirements && Object.keys(input.npmRequirements).length > 0) out.npm_requirements = sortedRecord(input.npmRequirements);
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]!]));
}

function stringRecord(value: unknown, key: string, fail: (problem: string) => never): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    fail(`"${key}" must be an object of strings`);
  }
  return { ...(value as Record<string, string>) };
}
