/** The tiny SDXL repo fixture the SDXL package's own tests use. */
export { createTinyRepo, releaseComponents, type TinyRepoFixture } from '@modular-diffusers/sdxl/testing';
