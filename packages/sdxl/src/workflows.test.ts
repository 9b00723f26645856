// diffusers tests/modular_pipelines/stable_diffusion_xl/test_modular_pipeline_stable_diffusion_xl.py::
// TestSDXLModularPipelineWorkflow (ModularWorkflowTesterMixin.test_workflow_map), commit 58eb52c: every workflow
// of StableDiffusionXLAutoBlocks resolves to the blocks, and expects the components, that diffusers' own
// get_workflow gives. The expected lists come from diffusers itself (tools/reference/diffusers-repo-files/
// make_workflows.py wrote sdxl-workflows.json).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StableDiffusionXLAutoBlocks } from './auto-presets.js';

interface WorkflowReference {
  triggers: Record<string, boolean>;
  blocks: Array<[string, string]>;
  components: string[];
}
const reference = JSON.parse(readFileSync(new URL('../../../tools/reference/diffusers-repo-files/sdxl-workflows.json', import.meta.url), 'utf8')) as {
  workflows: Record<string, WorkflowReference>;
};

describe('diffusers TestSDXLModularPipelineWorkflow (StableDiffusionXLAutoBlocks workflows)', () => {
  const blocks = new StableDiffusionXLAutoBlocks();

  it('declares the same workflows, with the same trigger inputs', () => {
    expect(blocks.availableWorkflows).toEqual(Object.keys(reference.workflows));
    for (const [name, ref] of Object.entries(reference.workflows)) expect(blocks.workflowMap![name]).toEqual(ref.triggers);
  });

  it.each(Object.entries(reference.workflows))('test_workflow_map: %s resolves to the blocks and components diffusers gives', (name, ref) => {
    const workflow = blocks.getWorkflow(name);
    expect(workflow.blocks.entries().map(([n, b]) => [n, b.className])).toEqual(ref.blocks);
    expect(workflow.expectedComponents.map((s) => s.name).sort()).toEqual(ref.components);
  });

  // diffusers' __repr__ and doc list the workflows after the description (format_workflow), and a class with
  // workflows shows no trigger banner; the reference is diffusers' own repr/doc (make_sdxl_repo_files.py).
  it("the printout and doc describe the workflows as diffusers' do", () => {
    const head = (text: string, stop: RegExp) => text.slice(0, text.search(stop));
    const repr = readFileSync(new URL('../../../tools/reference/diffusers-repo-files/sdxl-blocks/repr.txt', import.meta.url), 'utf8');
    const doc = readFileSync(new URL('../../../tools/reference/diffusers-repo-files/sdxl-blocks/doc.txt', import.meta.url), 'utf8');
    expect(head(blocks.toString(), /\n {2}Components:/)).toBe(head(repr, /\n {2}Components:/));
    expect(head(blocks.doc, /\n {2}Components:/)).toBe(head(doc, /\n {2}Components:/));
    expect(blocks.toString()).not.toContain('This pipeline contains blocks that are selected at runtime');
  });

  it('an unknown workflow names the available ones', () => {
    expect(() => blocks.getWorkflow('not_a_workflow')).toThrow(/Workflow 'not_a_workflow' not found in StableDiffusionXLAutoBlocks\. Available workflows: text2image, image2image, inpainting/);
  });
});
