/**
 * `modular run --set name=value`: values are kept as written until the pipeline's blocks are known,
 * then typed from each input's declaration (its type hint, else its default's type), so
 * `--set num_inference_steps=4` is the number 4, `--set prompt=123` stays the string '123', and a
 * name no block declares is an error naming the nearest input. `guider.<key>=value` sets the
 * guider's config (`--set guider.guidance_scale=7.5`, like `--guidance-scale 7.5`).
 */
import { nearestKey, type InputParam } from '@modular-diffusers/core';
import { CliUsageError } from '../errors.js';
import { isImageInput } from './run-inputs.js';

export const GUIDER_PREFIX = 'guider.';

/** Names that take whole numbers although the blocks declare them without a type hint. */
const INTEGER_INPUTS = new Set(['height', 'width', 'num_inference_steps', 'num_images_per_prompt', 'clip_skip', 'seed']);

type Kind = 'int' | 'number' | 'bool' | 'string' | 'image' | 'tensor' | 'json';

function kindOf(param: InputParam): Kind {
  if (isImageInput(param)) return 'image';
  const hint = typeof param.typeHint === 'string' ? param.typeHint.replace(/^Optional\[(.*)\]$/, '$1') : '';
  if (hint === 'int' || INTEGER_INPUTS.has(param.name ?? '')) return 'int';
  if (hint === 'float') return 'number';
  if (hint === 'bool') return 'bool';
  if (hint === 'str') return 'string';
  if (/^(torch\.)?Tensor$|^dtype$/.test(hint)) return 'tensor';
  if (typeof param.default === 'number') return 'number';
  if (typeof param.default === 'boolean') return 'bool';
  if (typeof param.default === 'string') return 'string';
  return 'json';
}

function usage(name: string, raw: string, wanted: string): CliUsageError {
  return new CliUsageError(`--set ${name}=${raw}: '${name}' takes ${wanted}, got '${raw}'.`);
}

/** A raw `--set` value as the input's declared type (images stay paths: they are read up front). */
export function typeSetValue(param: InputParam, raw: string): unknown {
  const name = param.name ?? '';
  switch (kindOf(param)) {
    case 'image':
    case 'string':
      return raw;
    case 'int': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isInteger(n)) throw usage(name, raw, 'a whole number');
      return n;
    }
    case 'number': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) throw usage(name, raw, 'a number');
      return n;
    }
    case 'bool':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw usage(name, raw, 'true or false');
    case 'tensor':
      throw new CliUsageError(`--set ${name}: '${name}' takes a ${String(param.typeHint)}, which cannot be given on the command line; leave it to the blocks.`);
    case 'json':
      try {
        const value: unknown = JSON.parse(raw);
        // A JSON string, number, list or boolean; an object (`{...}`) is a group of values too.
        return value;
      } catch {
        return raw;
      }
  }
}

/** A guider config value: JSON (numbers, booleans) when it parses, else the string. */
export function parseGuiderValue(key: string, raw: string): unknown {
  if (raw.trim() === '') throw new CliUsageError(`--set ${GUIDER_PREFIX}${key}=: give a value.`);
  try {
    return JSON.parse(raw);
  } catch {
    if (/^[+-]?(NaN|Infinity)$/.test(raw.trim())) return Number(raw);
    return raw;
  }
}

/** What each flag-given name explains when the blocks do not declare it. */
const FLAG_OF: Record<string, string> = {
  image: '--image',
  negative_prompt: '--negative-prompt',
  num_inference_steps: '--steps',
  generator: '--seed',
  prompt: '--prompt',
};

/**
 * Types every given value from the blocks' inputs. Names no block declares are collected into one
 * usage error (exit 2) listing each with its nearest input, so nothing is silently ignored.
 */
export function typePipelineInputs(
  given: ReadonlyMap<string, { raw: unknown; from: 'set' | 'flag' }>,
  inputs: readonly InputParam[],
): Record<string, unknown> {
  const byName = new Map(inputs.filter((p) => p.name).map((p) => [p.name as string, p]));
  const kwargsGroups = new Set(inputs.filter((p) => !p.name && p.kwargsType).map((p) => p.kwargsType as string));
  const names = [...byName.keys()];
  const typed: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, { raw, from }] of given) {
    const param = byName.get(name);
    if (param) {
      typed[name] = from === 'set' && typeof raw === 'string' ? typeSetValue(param, raw) : raw;
      continue;
    }
    if (kwargsGroups.has(name) && typeof raw === 'string') {
      typed[name] = parseGuiderValue(name, raw);
      continue;
    }
    const flag = from === 'flag' ? `${FLAG_OF[name] ?? name}` : `--set ${name}`;
    if (name === 'guidance_scale' || name === 'guidance_rescale') {
      problems.push(`${flag}: the ${name.replace('_', ' ')} is a setting of the guider, not a pipeline input; use --set guider.${name}=${String(raw)}` + (name === 'guidance_scale' ? ` (or --guidance-scale ${String(raw)})` : '') + '.');
      continue;
    }
    const near = nearestKey(name, names);
    problems.push(`${flag}: this pipeline has no input '${name}'${near ? ` (did you mean '${near}'?)` : ''}.`);
  }
  if (problems.length > 0) {
    throw new CliUsageError(
      `${problems.join('\n')}\nThe inputs of this pipeline: ${names.join(', ')}. Nothing was downloaded or run; \`modular inspect <repo>\` lists them with their types.`,
    );
  }
  return typed;
}
