SAFE_WEIGHTS_NAME = 'model.safetensors'
WEIGHTS_NAME = 'pytorch_model.bin'
SAFE_WEIGHTS_INDEX_NAME = 'model.safetensors.index.json'
WEIGHTS_INDEX_NAME = 'pytorch_model.bin.index.json'
