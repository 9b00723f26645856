import type { ModularPipeline } from './modular-pipeline.js';

/**
 * The `components` argument blocks receive: the pipeline, with components as properties
 * (`components.unet`). A name no declaration types reads as `unknown`; a typed block sees its
 * declared components typed (`ComponentsOf<spec>`).
 */
export type PipelineComponents = ModularPipeline & { [component: string]: unknown };
