/**
 * The model classes the builder knows, by the class name their config
 * carries (`_class_name` for diffusers, `architectures[0]` for
 * transformers). A package that builds more (a ControlNetModel, a CLIP
 * vision encoder) registers a definition here; nothing else changes.
 */
import { ModelBuildError } from './errors.js';
import { buildAutoencoderKL } from './builders/autoencoder-kl-graphs.js';
import { buildClipTextModel } from './builders/clip-text-model.js';
import { buildControlNetModel } from './builders/controlnet-model.js';
import { buildControlNetUnionModel } from './builders/controlnet-union-model.js';
import { buildClipVisionModelWithProjection } from './builders/clip-vision-model.js';
import type { ModelConfig } from './builders/config-reader.js';
import { buildUNet2DConditionModel, type UNetExtensions } from './builders/unet-2d-condition.js';
import type { LayerOptions } from './graph/layers.js';
import type { ModelGraph } from './graph/model-graph.js';

export interface ModelBuildInput {
  readonly config: ModelConfig;
  readonly configFile: string;
  readonly layerOptions: LayerOptions;
  readonly unet?: UNetExtensions | undefined;
}

export interface ModelClassDefinition {
  readonly className: string;
  /** The graphs it builds, one ONNX file each: ['model'], or ['encoder', 'decoder'] for a VAE. */
  readonly graphs: readonly string[];
  build(graph: ModelGraph, graphName: string, input: ModelBuildInput): void;
}

// The classes this package builds, as a table: importing the package runs no registration.
const BUILT_IN_MODEL_CLASSES: readonly ModelClassDefinition[] = [
  {
    className: 'UNet2DConditionModel',
    graphs: ['model'],
    build: (g, _name, input) => void buildUNet2DConditionModel(g, input.config, input.configFile, input.layerOptions, input.unet),
  },
  {
    className: 'ControlNetModel',
    graphs: ['model'],
    build: (g, _name, input) => void buildControlNetModel(g, input.config, input.configFile, input.layerOptions),
  },
  {
    className: 'ControlNetUnionModel',
    graphs: ['model'],
    build: (g, _name, input) => void buildControlNetUnionModel(g, input.config, input.configFile, input.layerOptions),
  },
  {
    className: 'AutoencoderKL',
    graphs: ['encoder', 'decoder'],
    build: (g, name, input) => buildAutoencoderKL(g, name, input),
  },
  ...(['CLIPTextModel', 'CLIPTextModelWithProjection'] as const).map(
    (className): ModelClassDefinition => ({
      className,
      graphs: ['model'],
      build: (g, _name, input) => buildClipTextModel(g, input.config, input.configFile, className, input.layerOptions),
    }),
  ),
  {
    className: 'CLIPVisionModelWithProjection',
    graphs: ['model'],
    build: (g, _name, input) => buildClipVisionModelWithProjection(g, input.config, input.configFile, input.layerOptions),
  },
];

const classes = new Map<string, ModelClassDefinition>(BUILT_IN_MODEL_CLASSES.map((definition) => [definition.className, definition]));

export function registerModelClass(definition: ModelClassDefinition): void {
  classes.set(definition.className, definition);
}

export function modelClassDefinition(className: string, configFile: string): ModelClassDefinition {
  const definition = classes.get(className);
  if (!definition) {
    throw new ModelBuildError(
      `${configFile}: the model builder cannot build '${className}' (it builds: ${registeredModelClasses().join(', ')}); use an ONNX export of this component.`,
      configFile,
      '_class_name',
    );
  }
  return definition;
}

export function registeredModelClasses(): string[] {
  return [...classes.keys()];
}
