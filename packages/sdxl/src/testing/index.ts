export * from './tiny-repo.js';
