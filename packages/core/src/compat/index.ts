// The old guide's spellings, one module per class they belong to, all @deprecated. The aliases
// themselves are installed by each class's own module; only the class below is exported.
export { PipelineBlock } from './pipeline-block.js';
