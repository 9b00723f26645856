/**
 * An RgbImage that can save itself, what pipelines return for
 * `output_type: 'pil'` so the guide's `image.save("out.png")` reads the same:
 * `await images[0].save('out.png')`.
 */
import { saveImage, type SaveImageOptions } from './encode-image.js';
import { assertRgbImage, type RgbImage } from './rgb-image.js';

export class PipelineImage implements RgbImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 1;
  readonly data: Uint8Array;

  constructor(image: RgbImage) {
    assertRgbImage(image);
    this.width = image.width;
    this.height = image.height;
    this.channels = image.channels;
    this.data = image.data;
  }

  /** Writes the image, its format taken from the extension (.png, .jpg/.jpeg, .webp). */
  save(path: string, options?: SaveImageOptions): Promise<void> {
    return saveImage(this, path, options);
  }
}
