// diffusers tests/modular_pipelines/testing_utils/workflow.py::ModularWorkflowTesterMixin (commit 58eb52c),
// test_from_pretrained_workflow and test_load_components_workflow, on a toy blocks class with two workflows.
import { AutoPipelineBlocks, ModularPipeline, registerBlocksClass, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { installHubIntegration } from './install-hub-integration.js';
import { DenoiseStep, EncodeStep, PIPE_INDEX, fakeLoaders, startHubFixture, type HubFixture } from './pretrained-fixtures.test-helpers.js';

class AutoDenoise extends AutoPipelineBlocks {
  static override blockClasses = [DenoiseStep];
  static override blockNames = ['denoise'];
  static override blockTriggerInputs = ['use_unet'];
}

class ToyWorkflowBlocks extends SequentialPipelineBlocks {
  static override blockClasses = [EncodeStep, AutoDenoise];
  static override blockNames = ['encode', 'maybe_denoise'];
  static override workflowMap = { encode_only: { prompt: true }, denoised: { prompt: true, use_unet: true } };
}
registerBlocksClass(ToyWorkflowBlocks);

const REPO = 'org/workflow-pipe';
let hub: HubFixture;

beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.spyOn(console, 'debug').mockImplementation(() => {});
  installHubIntegration();
  hub = await startHubFixture();
  await hub.seed(REPO, { 'modular_model_index.json': JSON.stringify({ ...PIPE_INDEX, _blocks_class_name: 'ToyWorkflowBlocks' }) });
});

afterAll(async () => {
  await hub?.close();
});

describe('diffusers ModularWorkflowTesterMixin', () => {
  const options = () => ({ hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders() });

  it('test_from_pretrained_workflow: the workflow option equals pruning the blocks by hand; an unknown one lists the available', async () => {
    const blocks = new ToyWorkflowBlocks();
    expect(blocks.availableWorkflows).toEqual(['encode_only', 'denoised']);
    for (const workflow of blocks.availableWorkflows) {
      const pipe = await ModularPipeline.fromPretrained(REPO, { ...options(), workflow });
      const ref = blocks.getWorkflow(workflow).initPipeline(REPO, { loaderRegistry: fakeLoaders(), modelIndex: null });
      expect(new Set(pipe.componentNames)).toEqual(new Set(ref.componentNames));
    }
    expect((await ModularPipeline.fromPretrained(REPO, { ...options(), workflow: 'encode_only' })).componentNames).toEqual(['text_encoder']);
    await expect(ModularPipeline.fromPretrained(REPO, { ...options(), workflow: 'not_a_workflow' })).rejects.toThrow(
      /Workflow 'not_a_workflow' not found in ToyWorkflowBlocks\. Available workflows: encode_only, denoised/,
    );
  });

  it('test_load_components_workflow: loads only what the workflow uses; names and a workflow together are refused', async () => {
    const pipe = await ModularPipeline.fromPretrained(REPO, options());
    const report = await pipe.loadComponents({ workflow: 'encode_only' });
    expect(report.loaded).toEqual(['text_encoder']);
    expect(pipe.components.unet).toBeNull();
    await expect(pipe.loadComponents('unet', { workflow: 'encode_only' })).rejects.toThrow(/not both/);
    await expect(pipe.loadComponents({ workflow: 'nope' })).rejects.toThrow(/Available workflows: encode_only, denoised/);
  });

  it('workflow is a declared option: a misspelling is refused with the nearest name', async () => {
    await expect(ModularPipeline.fromPretrained(REPO, { ...options(), workflw: 'encode_only' } as never)).rejects.toThrow(/unknown option 'workflw'\. Did you mean 'workflow'\?/);
    const pipe = await ModularPipeline.fromPretrained(REPO, options());
    await expect(pipe.loadComponents({ workflows: 'encode_only' } as never)).rejects.toThrow(/unknown option 'workflows'\. Did you mean 'workflow'\?/);
    await expect((async () => pipe.savePretrained(join(hub.root, 'typo'), { overwriteModularIndx: true } as never))()).rejects.toThrow(/Did you mean 'overwriteModularIndex'\?/);
  });

  it('blocks without a workflow map say so', () => {
    expect(() => new SequentialPipelineBlocks().availableWorkflows).toThrow(/declares no workflows/);
  });
});
