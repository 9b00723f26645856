/**
 * Reads packages/runtime/fixtures/pil-resize: PIL 9.4.0's own `Image.resize`
 * output and diffusers' own `VaeImageProcessor.preprocess` output, written by
 * tools/reference/pil-resize/make_fixtures.py (see its README).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { PilBox, PilFilter, RgbImage } from '../src/index.js';

interface Range {
  offset: number;
  length: number;
}

export interface FixtureInput extends Range {
  name: string;
  mode: 'RGB' | 'L';
  width: number;
  height: number;
}

export interface FixtureResize extends Range {
  input: string;
  filter: PilFilter;
  width: number;
  height: number;
  box: PilBox | null;
  reducingGap: number | null;
}

export interface FixturePreprocess extends Range {
  name: string;
  config: Record<string, unknown>;
  input: string;
  options: { height?: number; width?: number; resize_mode?: 'default' | 'fill' | 'crop'; crops_coords?: [number, number, number, number] };
  shape: number[];
}

export interface PilFixtures {
  pil: string;
  diffusersCommit: string;
  inputs: Map<string, RgbImage>;
  resizes: FixtureResize[];
  preprocess: FixturePreprocess[];
  bytes(range: Range): Uint8Array;
  floats(range: Range): Float32Array;
}

const DIR = new URL('../fixtures/pil-resize/', import.meta.url);

export function loadPilFixtures(): PilFixtures {
  const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as {
    pil: string;
    diffusers_commit: string;
    inputs: FixtureInput[];
    resizes: FixtureResize[];
    preprocess: FixturePreprocess[];
  };
  const blob = new Uint8Array(gunzipSync(readFileSync(new URL('data.bin.gz', DIR))));
  const bytes = ({ offset, length }: Range) => blob.slice(offset, offset + length);
  const inputs = new Map<string, RgbImage>(
    manifest.inputs.map((entry) => [
      entry.name,
      { width: entry.width, height: entry.height, channels: entry.mode === 'RGB' ? 3 : 1, data: bytes(entry) },
    ]),
  );
  return {
    pil: manifest.pil,
    diffusersCommit: manifest.diffusers_commit,
    inputs,
    resizes: manifest.resizes,
    preprocess: manifest.preprocess,
    bytes,
    // Little-endian float32, as the script writes them (and every platform Node runs on reads them).
    floats: (range) => new Float32Array(bytes(range).buffer),
  };
}

/** A one-line summary of where two byte arrays differ, for a failing expectation. */
export function describeDifference(actual: Uint8Array, expected: Uint8Array): string {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  let count = 0;
  let worst = 0;
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (d === 0) continue;
    count++;
    worst = Math.max(worst, d);
    if (first < 0) first = i;
  }
  return count === 0 ? 'identical' : `${count} bytes differ, at most by ${worst}, first at ${first}`;
}
