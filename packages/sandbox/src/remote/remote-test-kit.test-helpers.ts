/**
 * Test helpers: bundle a plugin the way `modular build` does (one IIFE, the
 * engine packages left to the sandbox's libraries) and a host component that
 * does arithmetic on Float32Arrays.
 */
import { build, type Plugin } from 'esbuild';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@modular-diffusers/runtime/tensor';
import { SANDBOX_BUNDLE_OPTIONS } from '../sandbox/sandbox-bundle-options.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Maps `@modular-diffusers/*` imports to `modularLibraries[name]`, which the sandbox provides. */
export function sandboxLibrariesExternal(): Plugin {
  return {
    name: 'sandbox-libraries-external',
    setup(b) {
      b.onResolve({ filter: /^@modular-diffusers\// }, (args) => ({ path: args.path, namespace: 'sandbox-library' }));
      b.onLoad({ filter: /.*/, namespace: 'sandbox-library' }, (args) => ({
        contents: `module.exports = modularLibraries[${JSON.stringify(args.path)}];`,
        loader: 'js',
      }));
    },
  };
}

/** Bundles `entry` (TypeScript, resolved from src/remote) into one classic script for the sandbox. */
export async function bundlePlugin(entry: string): Promise<string> {
  const result = await build({
    stdin: { contents: entry, resolveDir: here, sourcefile: 'plugin-entry.ts', loader: 'ts' },
    ...SANDBOX_BUNDLE_OPTIONS,
    mainFields: [...SANDBOX_BUNDLE_OPTIONS.mainFields],
    plugins: [sandboxLibrariesExternal()],
  });
  return result.outputFiles[0]!.text;
}

let toyPlugin: Promise<string> | null = null;

/** The toy plugin's bundle (built once per test file). */
export function toyPluginBundle(): Promise<string> {
  toyPlugin ??= bundlePlugin(`import * as plugin from './toy-plugin.test-helpers.ts';\ndefineBlocks(1, () => ({ ...plugin }));\n`);
  return toyPlugin;
}

/** A host component: scale(t, factor) = t * factor + offset, on a Float32Array. */
export class ToyScaler {
  readonly config: { offset: number };
  calls = 0;
  /** When set, scale() waits for it (to hold a run in flight). */
  gate: Promise<void> | null = null;

  constructor(offset: number) {
    this.config = { offset };
  }

  async scale(t: Tensor<'float32'>, factor: number): Promise<Tensor<'float32'>> {
    this.calls += 1;
    if (this.gate) await this.gate;
    return new Tensor('float32', t.data.map((v) => v * factor + this.config.offset), t.shape);
  }

  secret(): string {
    return 'host secret';
  }
}

export const TOY_SCALER_ACCESS = { ToyScaler: { methods: ['scale'], properties: ['config'] } };
