import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { OnnxModel, Tensor, slice } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from '../testing/tiny-repo.js';
import { StableDiffusionXLTextEncoderStep } from './text-encoder-step.js';

let repo: TinyRepoFixture;
let pipe: any;

beforeAll(async () => {
  repo = await createTinyRepo();
  pipe = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict({ text_encoder: StableDiffusionXLTextEncoderStep }));
});
afterAll(() => repo.dispose());

const encode = (inputs: Record<string, unknown>) => pipe({ ...inputs, output: ['prompt_embeds', 'negative_prompt_embeds', 'pooled_prompt_embeds', 'negative_pooled_prompt_embeds'] });
const part = (t: Tensor<'float32'>, from: number, to: number) => Array.from(slice(t, from, to, 2).data);

describe('StableDiffusionXLTextEncoderStep', () => {
  it('joins the penultimate hidden states of both encoders and pools from the second', async () => {
    const out = await encode({ prompt: 'a red apple' });
    const ids = pipe.tokenizer.encode('a red apple').inputIds;
    const idTensor = new Tensor('int64', BigInt64Array.from(ids[0], (v: number) => BigInt(v)), [1, 77]);
    const first = await pipe.text_encoder.encode(idTensor);
    const second = await pipe.text_encoder_2.encode(new Tensor('int64', BigInt64Array.from(pipe.tokenizer_2.encode('a red apple').inputIds[0], (v: number) => BigInt(v)), [1, 77]));
    expect(out.prompt_embeds.shape).toEqual([1, 77, 2048]);
    expect(part(out.prompt_embeds, 0, 768)).toEqual(Array.from(first.hiddenState.data));
    expect(part(out.prompt_embeds, 768, 2048)).toEqual(Array.from(second.hiddenState.data));
    expect(Array.from(out.pooled_prompt_embeds.data)).toEqual(Array.from(second.pooled.data));
  });

  it('takes hidden_states[-(clip_skip + 2)] with clip_skip, and prompt_2 for the second encoder', async () => {
    const plain = await encode({ prompt: 'a red apple' });
    const skipped = await encode({ prompt: 'a red apple', clip_skip: 1 });
    expect(part(skipped.prompt_embeds, 0, 768)).not.toEqual(part(plain.prompt_embeds, 0, 768));
    const two = await encode({ prompt: 'a red apple', prompt_2: 'a blue sky' });
    expect(part(two.prompt_embeds, 0, 768)).toEqual(part(plain.prompt_embeds, 0, 768));
    expect(part(two.prompt_embeds, 768, 2048)).not.toEqual(part(plain.prompt_embeds, 768, 2048));
    await expect(encode({ prompt: 'a', clip_skip: 2 })).rejects.toThrow(/clip_skip of 2 is too large/); // 2 layers: hidden_states.0..2
  });

  it('encodes a negative prompt like a prompt', async () => {
    const out = await encode({ prompt: 'a red apple', negative_prompt: 'a blue sky' });
    const other = await encode({ prompt: 'a blue sky' });
    expect(Array.from(out.negative_prompt_embeds.data)).toEqual(Array.from(other.prompt_embeds.data));
    expect(Array.from(out.negative_pooled_prompt_embeds.data)).toEqual(Array.from(other.pooled_prompt_embeds.data));
  });

  it('uses precomputed embeddings without running the encoders', async () => {
    const given = await encode({ prompt: 'a red apple' });
    const run = vi.spyOn(OnnxModel.prototype, 'run');
    try {
      const out = await encode({ prompt_embeds: given.prompt_embeds, pooled_prompt_embeds: given.pooled_prompt_embeds });
      expect(out.prompt_embeds).toBe(given.prompt_embeds);
      expect(out.negative_prompt_embeds.shape).toEqual([1, 77, 2048]);
      expect(run).not.toHaveBeenCalled();
    } finally {
      run.mockRestore();
    }
    await expect(encode({ prompt_embeds: given.prompt_embeds })).rejects.toThrow(/without `pooled_prompt_embeds`/);
  });

  it('broadcasts one negative prompt to every prompt and rejects other lengths', async () => {
    const out = await encode({ prompt: ['a red apple', 'a blue sky'], negative_prompt: 'blurry' });
    expect(out.negative_prompt_embeds.shape).toEqual([2, 77, 2048]);
    await expect(encode({ prompt: 'a', negative_prompt: ['x', 'y'] })).rejects.toThrow(/`negative_prompt` has 2 prompt\(s\) but `prompt` has 1/);
    await expect(encode({ prompt: 42 })).rejects.toThrow(/`prompt` has to be a string or a list of strings/);
  });
});
