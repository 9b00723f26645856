/**
 * SDXL's noise levels per training timestep: scaled_linear betas from
 * beta_start 0.00085 to beta_end 0.012 over 1000 steps (betas =
 * linspace(sqrt(start), sqrt(end), 1000)^2), alphas_cumprod = cumprod(1 -
 * betas), sigma_t = sqrt((1 - alphas_cumprod_t) / alphas_cumprod_t), as
 * diffusers' EulerDiscreteScheduler computes them. Computed in float64 and
 * stored as float32; sigma_999 = 14.6146..., SDXL's well-known max sigma.
 */
export const SDXL_TRAIN_TIMESTEPS = 1000;
export const SDXL_BETA_START = 0.00085;
export const SDXL_BETA_END = 0.012;

export function sdxlSigmaTable(): Float32Array {
  const start = Math.sqrt(SDXL_BETA_START);
  const end = Math.sqrt(SDXL_BETA_END);
  const sigmas = new Float32Array(SDXL_TRAIN_TIMESTEPS);
  let alphasCumprod = 1;
  for (let t = 0; t < SDXL_TRAIN_TIMESTEPS; t++) {
    const root = start + ((end - start) * t) / (SDXL_TRAIN_TIMESTEPS - 1);
    alphasCumprod *= 1 - root * root;
    sigmas[t] = Math.sqrt((1 - alphasCumprod) / alphasCumprod);
  }
  return sigmas;
}
