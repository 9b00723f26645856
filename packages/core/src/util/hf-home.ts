// Core also runs inside the sandbox, where no Node built-in may be imported: the few path
// operations these resolvers need are written out here, and `process` is read only when called.

/** Environment variables as a plain object, so callers and tests can pass their own instead of `process.env`. */
export type EnvVars = Readonly<Record<string, string | undefined>>;

interface ProcessLike {
  env: EnvVars;
  cwd(): string;
}

function hostProcess(): ProcessLike {
  const proc = (globalThis as { process?: ProcessLike }).process;
  if (!proc) throw new Error('resolveHfHome/expandUserPath need a Node process (they are not for sandboxed code).');
  return proc;
}

function defaultEnv(): EnvVars {
  return (globalThis as { process?: ProcessLike }).process?.env ?? {};
}

const isAbsolute = (path: string) => path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\');

function join(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') || p : p.replace(/^[\\/]+|[\\/]+$/g, '')))
    .join('/');
}

function resolve(path: string): string {
  const segments: string[] = [];
  for (const part of `${hostProcess().cwd()}/${path}`.split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') segments.pop();
    else segments.push(part);
  }
  return `/${segments.join('/')}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** `~` and relative paths the way Python's `os.path.expanduser` + `abspath` treat them in huggingface_hub. */
export function expandUserPath(path: string, env: EnvVars = defaultEnv()): string {
  const home = nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE) ?? nonEmpty(hostProcess().env.HOME) ?? '/';
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(path);
}

/**
 * `HF_HOME` as Python's `huggingface_hub` resolves it: the variable, else
 * `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. Every package that
 * keeps files beside the Hugging Face cache starts from here, so they agree.
 */
export function resolveHfHome(env: EnvVars = defaultEnv()): string {
  const xdgCache = nonEmpty(env.XDG_CACHE_HOME);
  return expandUserPath(nonEmpty(env.HF_HOME) ?? (xdgCache ? join(xdgCache, 'huggingface') : '~/.cache/huggingface'), env);
}

/**
 * The project's own folder, `$HF_HOME/modular-diffusers/`: outside `hub/`, so
 * Python's `scan_cache_dir` sees only what it wrote itself (listings, the
 * remote-code lock and built graphs live here).
 */
export function modularDiffusersHome(env: EnvVars = defaultEnv()): string {
  return join(resolveHfHome(env), 'modular-diffusers');
}
