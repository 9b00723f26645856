import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubConfigError } from './hub-config-error.js';
import { isTrueEnvValue, resolveHubConfig } from './hub-config.js';

// Defaults and precedence as Python's huggingface_hub.constants reads them.

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'hub-config-'));
});

afterAll(() => rm(home, { recursive: true, force: true }));

describe('resolveHubConfig', () => {
  it('defaults: huggingface.co, ~/.cache/huggingface, its hub/ cache, no token, online', () => {
    const config = resolveHubConfig({ env: { HOME: home } });
    expect(config).toEqual({
      hubUrl: 'https://huggingface.co',
      accessToken: undefined,
      tokenSource: 'none',
      tokenPath: join(home, '.cache', 'huggingface', 'token'),
      hfHome: join(home, '.cache', 'huggingface'),
      cacheDir: join(home, '.cache', 'huggingface', 'hub'),
      // The project's own files: beside hub/, never inside it (Python's scan_cache_dir reads hub/).
      projectDir: join(home, '.cache', 'huggingface', 'modular-diffusers'),
      offline: false,
    });
    // It follows HF_HOME, not an explicit cache: pins and listings belong to the user, not to a shared cache.
    expect(resolveHubConfig({ env: { HF_HOME: '/h', HF_HUB_CACHE: '/shared/hub' }, cacheDir: '/x' }).projectDir).toBe(join('/h', 'modular-diffusers'));
  });

  it('HF_HOME, XDG_CACHE_HOME, HF_HUB_CACHE and the legacy HUGGINGFACE_HUB_CACHE', () => {
    expect(resolveHubConfig({ env: { HOME: home, XDG_CACHE_HOME: '/xdg' } })).toMatchObject({ hfHome: '/xdg/huggingface', cacheDir: '/xdg/huggingface/hub' });
    expect(resolveHubConfig({ env: { HOME: home, HF_HOME: '~/hf' } })).toMatchObject({ hfHome: join(home, 'hf'), cacheDir: join(home, 'hf', 'hub') });
    expect(resolveHubConfig({ env: { HF_HOME: '/h', HUGGINGFACE_HUB_CACHE: '/legacy' } }).cacheDir).toBe('/legacy');
    expect(resolveHubConfig({ env: { HF_HOME: '/h', HUGGINGFACE_HUB_CACHE: '/legacy', HF_HUB_CACHE: '/new' } }).cacheDir).toBe('/new');
    expect(resolveHubConfig({ env: { HF_HUB_CACHE: '/new' }, cacheDir: '/explicit' }).cacheDir).toBe('/explicit');
  });

  it('HF_ENDPOINT without its trailing slash; the option wins; a non-URL is a typed error', () => {
    expect(resolveHubConfig({ env: { HF_ENDPOINT: 'http://127.0.0.1:8080/' } }).hubUrl).toBe('http://127.0.0.1:8080');
    expect(resolveHubConfig({ env: { HF_ENDPOINT: 'http://a' }, hubUrl: 'http://b/' }).hubUrl).toBe('http://b');
    expect(() => resolveHubConfig({ env: { HF_ENDPOINT: 'not a url' } })).toThrow(HubConfigError);
    expect(() => resolveHubConfig({ env: { HF_ENDPOINT: 'ftp://x' } })).toThrow(/http or https/);
  });

  it('token: option, then HF_TOKEN, then HUGGING_FACE_HUB_TOKEN, then the token file (HF_TOKEN_PATH or $HF_HOME/token)', async () => {
    const hfHome = join(home, 'hf-home');
    await mkdir(hfHome, { recursive: true });
    await writeFile(join(hfHome, 'token'), '  hf_from_file\n');
    await writeFile(join(home, 'other-token'), 'hf_from_path');
    expect(resolveHubConfig({ env: { HF_HOME: hfHome } })).toMatchObject({ accessToken: 'hf_from_file', tokenSource: 'token-file' });
    expect(resolveHubConfig({ env: { HF_HOME: hfHome, HF_TOKEN_PATH: join(home, 'other-token') } }).accessToken).toBe('hf_from_path');
    expect(resolveHubConfig({ env: { HF_HOME: hfHome, HUGGING_FACE_HUB_TOKEN: 'hf_legacy' } })).toMatchObject({ accessToken: 'hf_legacy', tokenSource: 'HUGGING_FACE_HUB_TOKEN' });
    expect(resolveHubConfig({ env: { HF_HOME: hfHome, HUGGING_FACE_HUB_TOKEN: 'hf_legacy', HF_TOKEN: 'hf_env' } })).toMatchObject({ accessToken: 'hf_env', tokenSource: 'HF_TOKEN' });
    expect(resolveHubConfig({ env: { HF_HOME: hfHome, HF_TOKEN: 'hf_env' }, accessToken: 'hf_opt' })).toMatchObject({ accessToken: 'hf_opt', tokenSource: 'option' });
    // An empty HF_TOKEN counts as unset, as in Python.
    expect(resolveHubConfig({ env: { HF_HOME: hfHome, HF_TOKEN: ' ' } }).tokenSource).toBe('token-file');
    expect(() => resolveHubConfig({ env: { HF_HOME: hfHome, HF_TOKEN_PATH: hfHome } })).toThrow(/Cannot read the Hugging Face token file/);
  });

  it('HF_HUB_OFFLINE accepts 1/true/yes/on in any case; an explicit option wins', () => {
    for (const value of ['1', 'true', 'TRUE', 'yes', 'On']) expect(isTrueEnvValue(value)).toBe(true);
    for (const value of [undefined, '', '0', 'false', 'no', 'off', '2']) expect(isTrueEnvValue(value)).toBe(false);
    expect(resolveHubConfig({ env: { HF_HUB_OFFLINE: 'yes' } }).offline).toBe(true);
    expect(resolveHubConfig({ env: { HF_HUB_OFFLINE: 'yes' }, offline: false }).offline).toBe(false);
    expect(resolveHubConfig({ env: {}, offline: true }).offline).toBe(true);
  });
});
