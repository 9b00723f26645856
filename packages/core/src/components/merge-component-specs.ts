import { ComponentConflictError } from '../errors.js';
import type { ConfigSpec } from '../params/config-spec.js';
import type { ComponentSpec } from './component-spec.js';

export interface SpecSource<T> {
  /** Who declared the specs, for the conflict message. */
  block: string;
  specs: readonly T[];
}

/**
 * Merges the components of several blocks in declaration order, one spec per
 * name. Equal specs (name, load id, creation method) collapse to the first,
 * like diffusers; a type difference alone also collapses, because the type
 * is a hint (the guide's ControlNet blocks declare `controlnet` as both
 * ControlNetUnionModel and ControlNetModel). A spec without a repo yields to
 * one that has a repo. Different creation methods or two different repos
 * for one name cannot be one object, and throw ComponentConflictError.
 */
export function mergeComponentSpecs(sources: ReadonlyArray<SpecSource<ComponentSpec>>): ComponentSpec[] {
  const merged: ComponentSpec[] = [];
  const owner = new Map<string, string>();
  for (const { block, specs } of sources) {
    for (const spec of specs) {
      const at = merged.findIndex((s) => s.name === spec.name);
      if (at < 0) {
        merged.push(spec);
        owner.set(spec.name, block);
        continue;
      }
      const first = merged[at]!;
      if (first.equals(spec)) continue;
      if (first.defaultCreationMethod !== spec.defaultCreationMethod) {
        throw new ComponentConflictError(
          spec.name,
          `${owner.get(spec.name)} creates it ${first.defaultCreationMethod} but ${block} creates it ${spec.defaultCreationMethod}`,
        );
      }
      if (first.pretrainedModelNameOrPath && spec.pretrainedModelNameOrPath) {
        throw new ComponentConflictError(
          spec.name,
          `${owner.get(spec.name)} loads it from '${first.loadId}' but ${block} loads it from '${spec.loadId}'`,
        );
      }
      if (!first.pretrainedModelNameOrPath && spec.pretrainedModelNameOrPath) {
        merged[at] = spec;
        owner.set(spec.name, block);
      }
    }
  }
  return merged;
}

/** Configs merge by name; the first declaration (and its default) wins. */
export function mergeConfigSpecs(sources: ReadonlyArray<SpecSource<ConfigSpec>>): ConfigSpec[] {
  const merged: ConfigSpec[] = [];
  for (const { specs } of sources) {
    for (const spec of specs) if (!merged.some((s) => s.name === spec.name)) merged.push(spec);
  }
  return merged;
}
