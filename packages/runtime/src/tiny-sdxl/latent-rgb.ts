/**
 * The fixed latent <-> RGB maps of the tiny VAE. Decoding uses the SDXL
 * latent-preview factors published in ComfyUI's comfy/latent_formats.py
 * (class SDXL: latent_rgb_factors and latent_rgb_factors_bias), which map a
 * scaled SDXL latent (VAE latent * 0.13025) to RGB in [-1, 1]. Encoding is
 * their least-squares inverse, the Moore-Penrose pseudo-inverse of the 3x4
 * map, so encode -> decode returns the input colour exactly (up to pooling).
 */
export const SDXL_SCALING_FACTOR = 0.13025;

/** Rows: latent channels 0..3; columns: R, G, B. */
export const SDXL_LATENT_RGB_FACTORS: readonly (readonly [number, number, number])[] = [
  [0.3651, 0.4232, 0.4341],
  [-0.2533, -0.0042, 0.1068],
  [0.1076, 0.1111, -0.0362],
  [-0.3165, -0.2492, -0.2188],
];
export const SDXL_LATENT_RGB_BIAS: readonly [number, number, number] = [0.1084, -0.0175, -0.0011];

/** Decoder weight as a [3, 4] matrix (rgb = W · latent + bias), row-major. */
export function latentToRgbMatrix(): Float32Array {
  const w = new Float32Array(12);
  for (let c = 0; c < 3; c++) for (let k = 0; k < 4; k++) w[c * 4 + k] = SDXL_LATENT_RGB_FACTORS[k][c];
  return w;
}

/**
 * Encoder weight as a [4, 3] matrix P = Wᵀ (W Wᵀ)⁻¹ (latent = P · (rgb − bias)),
 * row-major, computed in float64.
 */
export function rgbToLatentMatrix(): Float32Array {
  const w = latentToRgbMatrix();
  const gram = new Float64Array(9);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += w[i * 4 + k] * w[j * 4 + k];
      gram[i * 3 + j] = sum;
    }
  const inv = invert3x3(gram);
  const p = new Float32Array(12);
  for (let k = 0; k < 4; k++)
    for (let j = 0; j < 3; j++) {
      let sum = 0;
      for (let i = 0; i < 3; i++) sum += w[i * 4 + k] * inv[i * 3 + j];
      p[k * 3 + j] = sum;
    }
  return p;
}

function invert3x3(m: Float64Array): Float64Array {
  const [a, b, c, d, e, f, g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  const cof = [e * i - f * h, c * h - b * i, b * f - c * e, f * g - d * i, a * i - c * g, c * d - a * f, d * h - e * g, b * g - a * h, a * e - b * d];
  return Float64Array.from(cof, (v) => v / det);
}
