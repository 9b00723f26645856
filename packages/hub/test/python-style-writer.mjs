#!/usr/bin/env node
// A second cache writer that behaves as Python's huggingface_hub does when it
// downloads a blob (file_download.py, _download_to_tmp_and_move), written
// independently of this project's client so the two can be raced:
//
//   under an OS lock on <cache>/.locks/<repo folder>/<etag>.lock (taken by
//   `flock(1)` around this script, as Python's filelock takes flock(2)):
//   return if blobs/<etag> exists; open blobs/<etag>.incomplete for append;
//   resume from its size with a Range request; rename it to blobs/<etag>.
//   Like Python, it does not hash what it wrote.
//
// Usage: flock -x <lock> node python-style-writer.mjs <url> <blobPath> <expectedSize>
//   (or with --no-lock to run without flock, a writer that ignores the convention).
import { createWriteStream, existsSync, statSync, renameSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const [url, blobPath, expected] = process.argv.slice(2);
if (!url || !blobPath) {
  console.error('usage: python-style-writer.mjs <url> <blobPath> [expectedSize]');
  process.exit(2);
}
if (existsSync(blobPath)) process.exit(0);
const incomplete = `${blobPath}.incomplete`;
const resume = existsSync(incomplete) ? statSync(incomplete).size : 0;
const response = await fetch(url, resume > 0 ? { headers: { Range: `bytes=${resume}-` } } : {});
if (!response.ok) {
  console.error(`GET ${url} answered ${response.status}`);
  process.exit(1);
}
await pipeline(Readable.fromWeb(response.body), createWriteStream(incomplete, { flags: 'a' }));
const size = statSync(incomplete).size;
if (expected !== undefined && size !== Number(expected)) {
  // Python raises EnvironmentError("Consistency check failed") here and leaves the file.
  console.error(`consistency check failed: ${size} != ${expected}`);
  process.exit(1);
}
renameSync(incomplete, blobPath);
