import type { Exchange } from './exchange.js';
import { HubHttpError } from './hub-server-error.js';
import type { ServerContext } from './server-context.js';

const MAX_README_BYTES = 1024 * 1024;

/**
 * What this server checks of a README's metadata: a front matter opened by a
 * `---` line is closed by another, and its top level is a mapping (`key: value`
 * lines). The Hub validates the keys against its schemas too; this server has
 * no schemas, so anything well-formed passes.
 */
export function readmeMetadataErrors(content: string): string[] {
  const lines = content.split(/\r?\n/);
  if (lines[0]?.trim() !== '---') return [];
  const end = lines.findIndex((line, i) => i > 0 && line.trim() === '---');
  if (end < 0) return ['The metadata block opened by "---" on the first line is never closed: end it with a "---" line.'];
  const errors: string[] = [];
  for (const [index, line] of lines.slice(1, end).entries()) {
    if (line.trim() === '' || line.trimStart().startsWith('#') || /^\s/.test(line) || line.startsWith('- ')) continue;
    if (!/^("[^"]*"|'[^']*'|[^\s:#][^:]*):(\s|$)/.test(line)) {
      errors.push(`Line ${index + 2} of the metadata ("${line.slice(0, 60)}") is not a "key: value" entry: the metadata must be a YAML mapping.`);
    }
  }
  return errors;
}

/**
 * `POST /api/validate-yaml` with `{ content, repoType }`: Python's client asks
 * before it uploads a `README.md`. 200 `{ errors: [], warnings: [] }`, or 400
 * with `errors: [{ message }]` as the Hub answers.
 */
export async function validateYaml(ex: Exchange, _ctx: ServerContext): Promise<void> {
  const body = await ex.readJson<{ content?: unknown; repoType?: unknown }>(MAX_README_BYTES);
  if (typeof body.content !== 'string') throw new HubHttpError(400, 'validate-yaml needs { "content": "<README.md text>" }.', 'BadRequest', {}, { errors: [{ message: 'missing "content"' }], warnings: [] });
  const errors = readmeMetadataErrors(body.content);
  if (errors.length > 0) {
    throw new HubHttpError(400, `Invalid metadata in README.md: ${errors.join(' ')}`, 'BadRequest', {}, { errors: errors.map((message) => ({ message })), warnings: [] });
  }
  await ex.json(200, { errors: [], warnings: [] });
}
