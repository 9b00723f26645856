/** Test helper: write tiny models into a temp folder and load them. Not exported from the package. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphBuilder } from '../onnx/builder/graph-builder.js';
import { writeOnnxModel } from '../onnx/builder/write-onnx-model.js';
import { loadOnnxModel, type OnnxModel } from '../onnx/onnx-model.js';

export class ModelScratch {
  private dir: string | undefined;
  private readonly models: OnnxModel[] = [];

  async load(name: string, graph: GraphBuilder): Promise<OnnxModel> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'tiny-sdxl-'));
    const [path] = await writeOnnxModel(join(this.dir, name, 'model.onnx'), graph);
    const model = await loadOnnxModel(path);
    this.models.push(model);
    return model;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.models.map((m) => m.release()));
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
