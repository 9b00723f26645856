/** A single-file checkpoint that cannot be loaded (not SDXL, a pickle, a config of another class), naming the file and the key. */
import { ModelBuildError } from '@modular-diffusers/model-builder';

export class SingleFileCheckpointError extends ModelBuildError {
  static override readonly code: string = 'SINGLE_FILE_CHECKPOINT';
  override name = 'SingleFileCheckpointError';
}
