export { moveIntoPlace, tempPath, tempSibling, writeFileAtomic, writeJsonAtomic } from './atomic-file.js';
export type { WriteFileAtomicOptions } from './atomic-file.js';
