import type { InputParam } from '../params/input-param.js';
import type { OutputParam } from '../params/output-param.js';

/** One step of a sequence, as the input computation sees it. */
export interface SequenceStep {
  inputs: readonly InputParam[];
  outputs: readonly OutputParam[];
  /** A skippable step (an auto block without default) may not run, so its outputs are not counted as produced. */
  skippable: boolean;
}

/**
 * The inputs a sequence needs from outside: every step's inputs, minus the
 * names an earlier (non-skippable) step outputs. On duplicates the first
 * declaration wins, default and description included; it becomes required
 * when any step that reads it before it is produced requires it.
 */
export function sequenceInputs(steps: readonly SequenceStep[], trailing: readonly InputParam[] = []): InputParam[] {
  const result: InputParam[] = [];
  const index = new Map<string, number>();
  const produced = new Set<string>();
  const add = (param: InputParam) => {
    const at = index.get(param.key);
    if (at === undefined) {
      index.set(param.key, result.length);
      result.push(param);
    } else if (param.required && !result[at]!.required) {
      result[at] = result[at]!.with({ required: true });
    }
  };
  for (const step of steps) {
    for (const param of step.inputs) if (!(param.name && produced.has(param.name))) add(param);
    if (!step.skippable) for (const out of step.outputs) produced.add(out.name);
  }
  for (const param of trailing) add(param);
  return result;
}

/**
 * Merges the inputs of named blocks (diffusers' `combine_inputs`): the first
 * declaration of a key wins, except that when the blocks declare different
 * defaults for it the merged default becomes undefined and every block's
 * default is recorded in `defaultsByBlock` (a block whose own param already
 * carries one contributes its entries prefixed with `<block>.`). A missing
 * default (undefined or null) counts as a value of its own, so it disagrees
 * with a sibling's 5: "not given" must not be replaced by another branch's
 * default.
 */
export function combineInputs(named: ReadonlyArray<readonly [string, readonly InputParam[]]>): InputParam[] {
  const result: InputParam[] = [];
  const index = new Map<string, number>();
  const defaults = new Map<string, Record<string, unknown>>();
  for (const [blockName, inputs] of named) {
    for (const param of inputs) {
      const own: Record<string, unknown> = {};
      if (param.defaultsByBlock && Object.keys(param.defaultsByBlock).length > 0) {
        for (const [k, v] of Object.entries(param.defaultsByBlock)) own[`${blockName}.${k}`] = v;
      } else {
        own[blockName] = param.default;
      }
      const at = index.get(param.key);
      if (at === undefined) {
        index.set(param.key, result.length);
        result.push(param);
        defaults.set(param.key, own);
        continue;
      }
      const byBlock = Object.assign(defaults.get(param.key)!, own);
      const values = Object.values(byBlock);
      if (values.some((v) => !sameDefault(v, values[0]))) {
        result[at] = result[at]!.with({ default: undefined, defaultsByBlock: { ...byBlock } });
      }
    }
  }
  return result;
}

/**
 * Inputs of alternative branches (only one runs), merged by `combineInputs`;
 * an input is required only when every branch requires it and a default
 * branch exists (without one the whole block may be skipped).
 */
export function alternativeInputs(branches: ReadonlyArray<readonly [string, readonly InputParam[]]>, hasDefault: boolean): InputParam[] {
  return combineInputs(branches).map((param) => {
    const required =
      hasDefault && branches.length > 0 && branches.every(([, inputs]) => inputs.some((p) => p.key === param.key && p.required));
    return param.required === required ? param : param.with({ required });
  });
}

/** The distinct defaults of a param whose branches disagree, in first-seen order (for docs). */
export function distinctDefaults(byBlock: Readonly<Record<string, unknown>>): unknown[] {
  const out: unknown[] = [];
  for (const v of Object.values(byBlock)) if (!out.some((o) => sameDefault(o, v))) out.push(v);
  return out;
}

/** Python's `==` on declared defaults: None is one value (null and undefined alike), lists and dicts compare by content. */
export function sameDefault(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameDefault(x, b[i]));
  if (isPlain(a) && isPlain(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameDefault(a[k], b[k]));
  }
  return false;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Outputs merge by name; the first wins, except that a later one carrying a kwargs type replaces an untagged one. */
export function combineOutputs(lists: ReadonlyArray<readonly OutputParam[]>): OutputParam[] {
  const result: OutputParam[] = [];
  for (const list of lists) {
    for (const out of list) {
      const at = result.findIndex((o) => o.name === out.name);
      if (at < 0) result.push(out);
      else if (result[at]!.kwargsType === null && out.kwargsType !== null) result[at] = out;
    }
  }
  return result;
}

/** Merges a block's own declaration lists (e.g. `inputs` and `intermediatesInputs`): first by key wins. */
export function uniqueInputs(...lists: ReadonlyArray<readonly InputParam[]>): InputParam[] {
  const seen = new Set<string>();
  const result: InputParam[] = [];
  for (const list of lists) {
    for (const p of list) {
      if (!seen.has(p.key)) {
        seen.add(p.key);
        result.push(p);
      }
    }
  }
  return result;
}
