import { InvalidArgumentError } from '../errors.js';

/** The inputs a workflow is run with: `{ image: true, prompt: true }` (names whose value is true are given). */
export type WorkflowTriggers = Readonly<Record<string, boolean>>;

/**
 * A blocks class's named workflows (diffusers' `_workflow_map`): each name maps to the inputs that
 * select it, or to a list of alternative spellings that select the same blocks (the first is used).
 */
export type WorkflowMap = Readonly<Record<string, WorkflowTriggers | readonly WorkflowTriggers[]>>;

/** The input names `getExecutionBlocks` is given for `workflow` of `map` (owner names the class in errors). */
export function workflowInputNames(map: WorkflowMap | null, workflow: string, owner: string): string[] {
  const triggers = workflowTriggers(map, owner)[workflow];
  if (triggers === undefined) {
    throw new InvalidArgumentError(`Workflow '${workflow}' not found in ${owner}. Available workflows: ${Object.keys(map!).join(', ')}.`);
  }
  const first: WorkflowTriggers = isAlternatives(triggers) ? (triggers[0] ?? {}) : triggers;
  return Object.entries(first)
    .filter(([, given]) => given)
    .map(([name]) => name);
}

export function workflowTriggers(map: WorkflowMap | null, owner: string): WorkflowMap {
  if (map === null) {
    throw new InvalidArgumentError(`${owner} declares no workflows (static workflowMap is not set), so it has no availableWorkflows and no getWorkflow(name).`);
  }
  return map;
}

function isAlternatives(value: WorkflowTriggers | readonly WorkflowTriggers[]): value is readonly WorkflowTriggers[] {
  return Array.isArray(value);
}

/** diffusers' `format_workflow`: "Supported workflows:" and one line per workflow with the inputs it requires. */
export function formatWorkflows(map: WorkflowMap): string {
  const lines = ['Supported workflows:'];
  for (const [name, value] of Object.entries(map)) {
    const alternatives = isAlternatives(value) ? value : [value];
    const requires = alternatives
      .map((alt) =>
        Object.entries(alt)
          .filter(([, v]) => v)
          .map(([k]) => `\`${k}\``)
          .join(', '),
      )
      .filter(Boolean);
    lines.push(requires.length > 0 ? `  - \`${name}\`: requires ${requires.join(' or ')}` : `  - \`${name}\`: default (no additional inputs required)`);
  }
  return lines.join('\n');
}
