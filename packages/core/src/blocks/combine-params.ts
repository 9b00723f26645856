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
 * Inputs of alternative branches (only one runs). First declaration wins;
 * an input is required only when every branch requires it and a default
 * branch exists (without one the whole block may be skipped).
 */
export function alternativeInputs(branches: ReadonlyArray<readonly InputParam[]>, hasDefault: boolean): InputParam[] {
  const result: InputParam[] = [];
  const index = new Map<string, number>();
  for (const inputs of branches) {
    for (const param of inputs) {
      if (!index.has(param.key)) {
        index.set(param.key, result.length);
        result.push(param);
      }
    }
  }
  return result.map((param) => {
    const required =
      hasDefault && branches.length > 0 && branches.every((inputs) => inputs.some((p) => p.key === param.key && p.required));
    return param.required === required ? param : param.with({ required });
  });
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
