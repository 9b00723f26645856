// This package's tests run SDXL as an application would: with the sdxl family registered
// explicitly (importing the package registers nothing; tests/src/import-purity.test.ts checks).
import { registerFamily } from '@modular-diffusers/core';
import { sdxl } from '../src/index.js';

registerFamily(sdxl);
