export * from './tensor/tensor.js';
