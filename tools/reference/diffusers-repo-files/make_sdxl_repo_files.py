"""Writes what diffusers 58eb52c itself writes for the SDXL auto pipeline, for tests that assert this
project's repo files against it:

  sdxl-pipeline/modular_model_index.json  ModularPipeline.from_pretrained(<standard SDXL folder>).save_pretrained(dir)
                                          (the folder is model_index.json only, naming the usual SDXL classes;
                                          its path is replaced by "org/sdxl" in the written file)
  sdxl-pipeline/files.json                every file that save wrote (no modular_config.json)
  sdxl-blocks/modular_config.json         StableDiffusionXLAutoBlocks().save_pretrained(dir)
  sdxl-card/README.md                     the model card a push_to_hub save writes (diffusers' modular path:
                                          ModelCard(MODULAR_MODEL_CARD_TEMPLATE.format(...)), populate_model_card)
  sdxl-blocks/repr.txt, sdxl-blocks/doc.txt  repr(StableDiffusionXLAutoBlocks()) and its .doc
  sdxl-mellon/mellon_pipeline_config.json MellonPipelineConfig.from_blocks(StableDiffusionXLAutoBlocks(),
                                          default_repo="org/sdxl").to_json_string()

Run: /usr/bin/python3 tools/reference/diffusers-repo-files/make_sdxl_repo_files.py"""
import json
import os
import tempfile

import diffusers_env  # noqa: F401
from huggingface_hub import ModelCard, ModelCardData
from diffusers.modular_pipelines import ModularPipeline, StableDiffusionXLAutoBlocks
from diffusers.modular_pipelines.mellon_node_utils import MellonPipelineConfig
from diffusers.modular_pipelines.modular_pipeline_utils import MODULAR_MODEL_CARD_TEMPLATE, generate_modular_model_card_content
from diffusers.utils.hub_utils import populate_model_card

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = 'org/sdxl'


STANDARD_INDEX = {
    '_class_name': 'StableDiffusionXLPipeline',
    '_diffusers_version': '0.19.0.dev0',
    'force_zeros_for_empty_prompt': True,
    'scheduler': ['diffusers', 'EulerDiscreteScheduler'],
    'text_encoder': ['transformers', 'CLIPTextModel'],
    'text_encoder_2': ['transformers', 'CLIPTextModelWithProjection'],
    'tokenizer': ['transformers', 'CLIPTokenizer'],
    'tokenizer_2': ['transformers', 'CLIPTokenizer'],
    'unet': ['diffusers', 'UNet2DConditionModel'],
    'vae': ['diffusers', 'AutoencoderKL'],
}


def write(rel, content):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(content)
    print('wrote', rel)


with tempfile.TemporaryDirectory() as tmp:
    source = os.path.join(tmp, 'sdxl')
    os.makedirs(source)
    with open(os.path.join(source, 'model_index.json'), 'w') as f:
        json.dump(STANDARD_INDEX, f)
    pipe = ModularPipeline.from_pretrained(source)
    out = os.path.join(tmp, 'saved')
    pipe.save_pretrained(out)
    with open(os.path.join(out, 'modular_model_index.json')) as f:
        write('sdxl-pipeline/modular_model_index.json', f.read().replace(source, REPO))
    write('sdxl-pipeline/files.json', json.dumps(sorted(os.listdir(out)), indent=2) + '\n')

    blocks_out = os.path.join(tmp, 'blocks')
    StableDiffusionXLAutoBlocks().save_pretrained(blocks_out)
    with open(os.path.join(blocks_out, 'modular_config.json')) as f:
        write('sdxl-blocks/modular_config.json', f.read())

blocks = StableDiffusionXLAutoBlocks()
write('sdxl-blocks/repr.txt', repr(blocks) + '\n')
write('sdxl-blocks/doc.txt', blocks.doc + '\n')
content = generate_modular_model_card_content(blocks)
card = ModelCard(MODULAR_MODEL_CARD_TEMPLATE.format(**content))
card.data = ModelCardData()
card = populate_model_card(card, tags=content['tags'])
write('sdxl-card/README.md', str(card))

mellon = MellonPipelineConfig.from_blocks(StableDiffusionXLAutoBlocks(), default_repo=REPO)
write('sdxl-mellon/mellon_pipeline_config.json', mellon.to_json_string())
