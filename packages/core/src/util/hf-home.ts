// Core is also bundled into the plugin sandbox, which refuses static imports of Node built-ins;
// these functions only run on the host, so they fetch the modules when called.
const os = () => process.getBuiltinModule('node:os');
const path = () => process.getBuiltinModule('node:path');
const homedir = () => os().homedir();
const isAbsolute = (p: string) => path().isAbsolute(p);
const join = (...parts: string[]) => path().join(...parts);
const resolve = (p: string) => path().resolve(p);

/** Environment variables as a plain object, so callers and tests can pass their own instead of `process.env`. */
export type EnvVars = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** `~` and relative paths the way Python's `os.path.expanduser` + `abspath` treat them in huggingface_hub. */
export function expandUserPath(path: string, env: EnvVars = process.env): string {
  const home = nonEmpty(env.HOME) ?? homedir();
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(path);
}

/**
 * `HF_HOME` as Python's `huggingface_hub` resolves it: the variable, else
 * `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. Every package that
 * keeps files beside the Hugging Face cache starts from here, so they agree.
 */
export function resolveHfHome(env: EnvVars = process.env): string {
  const xdgCache = nonEmpty(env.XDG_CACHE_HOME);
  return expandUserPath(nonEmpty(env.HF_HOME) ?? (xdgCache ? join(xdgCache, 'huggingface') : '~/.cache/huggingface'), env);
}

/**
 * The project's own folder, `$HF_HOME/modular-diffusers/`: outside `hub/`, so
 * Python's `scan_cache_dir` sees only what it wrote itself (listings, the
 * remote-code lock and built graphs live here).
 */
export function modularDiffusersHome(env: EnvVars = process.env): string {
  return join(resolveHfHome(env), 'modular-diffusers');
}
