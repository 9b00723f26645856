/** Reads a component folder's JSON config (config.json, scheduler_config.json, ...). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ComponentLoadError } from '@modular-diffusers/core';

/**
 * The parsed object in `folder/file`; `null` when the file is absent and
 * `optional`, else a ComponentLoadError that names the file.
 */
export async function readJsonConfig(folder: string, file: string, options: { optional: true }): Promise<Record<string, unknown> | null>;
export async function readJsonConfig(folder: string, file: string, options?: { optional?: false }): Promise<Record<string, unknown>>;
export async function readJsonConfig(folder: string, file: string, options: { optional?: boolean } = {}): Promise<Record<string, unknown> | null> {
  const path = join(folder, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (options.optional) return null;
      throw new ComponentLoadError(`Missing ${file} in ${folder}: the component folder needs it (download the whole subfolder).`);
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ComponentLoadError(`${path} is not valid JSON (${(error as Error).message}); fix or re-download it.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ComponentLoadError(`${path} must hold a JSON object.`);
  }
  return parsed as Record<string, unknown>;
}
