import { InvalidArgumentError } from '../errors.js';

/**
 * Requirements as blocks declare them: package name to version specifier, and in a composite the
 * sub-blocks' requirements nested under their names (diffusers' `_requirements` of sequential,
 * conditional and loop blocks). `flattenRequirements` merges them into one map for a repo file.
 */
export interface RequirementsTree {
  readonly [name: string]: string | RequirementsTree;
}

/** Which ecosystem the specifiers follow: pip's PEP 440 (diffusers' `requirements`) or npm's semver ranges. */
export type RequirementsKind = 'python' | 'npm';

/**
 * One map from a tree: nested maps merge in order (a later block's specifier for the same package
 * replaces an earlier one, as in diffusers' `_normalize_requirements`). Python specifiers follow
 * diffusers: a bare version means `==version`; an npm range there is refused, since diffusers
 * parses every `requirements` entry as PEP 440 and fails to load the repo.
 */
export function flattenRequirements(tree: RequirementsTree | null | undefined, kind: RequirementsKind): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (node: RequirementsTree) => {
    for (const [name, spec] of Object.entries(node)) {
      if (typeof spec === 'object' && spec !== null) {
        visit(spec);
        continue;
      }
      const pkg = name.trim();
      if (!pkg) throw new InvalidArgumentError('A requirement needs a package name.');
      out[pkg] = kind === 'python' ? pythonSpecifier(pkg, String(spec ?? '').trim()) : String(spec ?? '').trim();
    }
  };
  if (tree) visit(tree);
  return out;
}

/** True for a specifier only npm understands: `^1.2`, `~1.2` (not `~=`), `1.x`, `a || b`, `1.0.0 - 2.0.0`, `workspace:*`. */
export function isNpmRange(spec: string): boolean {
  const s = spec.trim();
  return /^\^/.test(s) || /^~(?!=)/.test(s) || /\|\|/.test(s) || /(^|[.\s])[xX*](\.|$|\s)/.test(s) || /\s-\s/.test(s) || /^[a-z]+:/.test(s);
}

function pythonSpecifier(pkg: string, spec: string): string {
  if (spec && isNpmRange(spec)) {
    throw new InvalidArgumentError(
      `Requirement '${pkg}': '${spec}' is an npm range, but requirements are Python (PEP 440, e.g. '>=0.8.0') and diffusers refuses any other. ` +
        'Declare npm packages in npmRequirements.',
    );
  }
  return spec && !/^[<>=!~]/.test(spec) ? `==${spec}` : spec;
}
