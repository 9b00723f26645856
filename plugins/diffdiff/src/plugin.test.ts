import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as plugin from './plugin.js';

const here = dirname(fileURLToPath(import.meta.url));

// What the remote-code sandbox provides: the engine, pure tensors, schedulers/guiders and the SDXL blocks.
const SANDBOX_SAFE = ['@modular-diffusers/core', '@modular-diffusers/diffusion', '@modular-diffusers/runtime/tensor', '@modular-diffusers/sdxl/blocks'];

describe('the plugin bundle entry', () => {
  it('exports the blocks classes and presets, SDXLDiffDiffBlocks by default', () => {
    expect(Object.keys(plugin).sort()).toEqual([
      'DIFFDIFF_AUTO_BLOCKS',
      'DIFFDIFF_BLOCKS',
      'SDXLDiffDiffAutoDenoiseStep',
      'SDXLDiffDiffBlocks',
      'SDXLDiffDiffControlNetDenoiseLoop',
      'SDXLDiffDiffDenoiseLoop',
      'SDXLDiffDiffLoopBeforeDenoiser',
      'SDXLDiffDiffPrepareLatentsStep',
      'default',
    ]);
    expect(plugin.default).toBe(plugin.SDXLDiffDiffBlocks);
  });

  it('bundles with only sandbox-safe imports (no ONNX Runtime, sharp, Node built-ins or the full runtime/sdxl packages)', async () => {
    const imported = new Set<string>();
    const result = await build({
      entryPoints: [join(here, 'plugin.ts')],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      write: false,
      logLevel: 'silent',
      plugins: [
        {
          name: 'record-imports',
          setup(b) {
            b.onResolve({ filter: /^[^./]/ }, (args) => {
              imported.add(args.path);
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    // diffusion is imported for types only, which the bundler erases.
    expect([...imported].filter((name) => !SANDBOX_SAFE.includes(name))).toEqual([]);
    expect([...imported]).toEqual(expect.arrayContaining(['@modular-diffusers/core', '@modular-diffusers/runtime/tensor', '@modular-diffusers/sdxl/blocks']));
    expect(result.outputFiles[0]!.text).toContain('SDXLDiffDiffPrepareLatentsStep');
  });
});
