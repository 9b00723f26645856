/**
 * Bundles a plugin's `src/plugin.ts` into ONE classic script the sandbox
 * runs: an esbuild IIFE that hands its exports to `defineBlocks(1, ...)`.
 * The engine packages are the sandbox's own libraries, so their imports
 * become `modularLibraries[name]` instead of bundled copies; anything that
 * must stay on the host (Node built-ins, onnxruntime, sharp, the Hub client)
 * is a build error that names the import and who imported it.
 */
import { builtinModules } from 'node:module';
import { relative } from 'node:path';
import { build, type Message, type Plugin } from 'esbuild';
import { checkSandboxSource, SANDBOX_API_VERSION, SANDBOX_BUNDLE_OPTIONS, SANDBOX_LIBRARY_NAMES } from '@modular-diffusers/sandbox';
import { CliError } from '../errors.js';
import { PLUGIN_ENTRY } from './plugin-package.js';

export class PluginBuildError extends CliError {
  static override readonly code: string = 'PLUGIN_BUILD';
  override name = 'PluginBuildError';
}

export interface PluginBundle {
  source: string;
  /** Host libraries the plugin imports, e.g. `@modular-diffusers/core`. */
  hostLibraries: string[];
}

const HOST_LIBRARIES = new Set<string>(SANDBOX_LIBRARY_NAMES);
const HOST_ONLY = /^(onnxruntime-node|onnxruntime-common|onnxruntime-web|sharp|@img\/|@huggingface\/)(\/|$)/;
const BUILTINS = new Set(builtinModules);
const NAMESPACE = 'modular-sandbox-library';

function hostLibrariesPlugin(used: Set<string>, dir: string): Plugin {
  return {
    name: 'modular-host-libraries',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const path = args.path;
        const from = args.importer ? ` (imported by ${relative(dir, args.importer) || args.importer})` : '';
        const root = path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0]!;
        if (HOST_LIBRARIES.has(path)) {
          used.add(path);
          return { path, namespace: NAMESPACE };
        }
        if (path.startsWith('@modular-diffusers/')) {
          return {
            errors: [{ text: `'${path}'${from} is not provided by the sandbox; plugins may import only ${[...HOST_LIBRARIES].join(', ')}` }],
          };
        }
        if (path.startsWith('node:') || BUILTINS.has(root) || BUILTINS.has(path)) {
          return { errors: [{ text: `the Node built-in '${path}'${from} cannot run in the sandbox; plugins get files, models and images through components` }] };
        }
        if (HOST_ONLY.test(path)) {
          return { errors: [{ text: `'${path}'${from} must stay on the host; models, images and tokenizers reach blocks as components` }] };
        }
        return undefined;
      });
      b.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: `module.exports = modularLibraries[${JSON.stringify(args.path)}];`,
        loader: 'js',
      }));
    },
  };
}

function describeMessages(messages: readonly Message[]): string {
  return messages.map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text)).join('\n  ');
}

export async function bundlePlugin(dir: string, filename: string): Promise<PluginBundle> {
  const used = new Set<string>();
  let result;
  try {
    result = await build({
      stdin: {
        contents: `import * as plugin from './${PLUGIN_ENTRY}';\ndefineBlocks(${SANDBOX_API_VERSION}, () => ({ ...plugin }));\n`,
        resolveDir: dir,
        sourcefile: 'modular-plugin-entry.ts',
        loader: 'ts',
      },
      ...SANDBOX_BUNDLE_OPTIONS,
      mainFields: [...SANDBOX_BUNDLE_OPTIONS.mainFields],
      absWorkingDir: dir,
      plugins: [hostLibrariesPlugin(used, dir)],
    });
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    const detail = errors?.length ? describeMessages(errors) : (error as Error).message;
    throw new PluginBuildError(`Bundling ${PLUGIN_ENTRY} failed:\n  ${detail}`);
  }
  const source = result.outputFiles[0]!.text;
  try {
    checkSandboxSource(source, filename);
  } catch (error) {
    throw new PluginBuildError(`The bundle would be refused by the sandbox: ${(error as Error).message}. Remove that construct from the plugin's sources.`);
  }
  return { source, hostLibraries: [...used].sort() };
}
