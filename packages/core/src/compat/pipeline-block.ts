import { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';

/**
 * The guide's leaf-block base class. diffusers later folded it into
 * ModularPipelineBlocks; it stays as a named subclass so blocks written the
 * guide's way print `Class: PipelineBlock`.
 * @deprecated Extend `ModularPipelineBlocks`.
 */
export class PipelineBlock extends ModularPipelineBlocks {}
