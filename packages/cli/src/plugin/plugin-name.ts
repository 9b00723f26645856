/**
 * Plugin names, checked the way npm checks package names (lowercase,
 * url-safe, no leading dot or underscore, at most 214 characters), minus the
 * scope: the package becomes `@modular-diffusers/plugin-<name>`.
 */
import { CliUsageError } from '../errors.js';

const NAME = /^[a-z0-9][a-z0-9._~-]*$/;
const MAX_LENGTH = 214 - '@modular-diffusers/plugin-'.length;

export function validatePluginName(name: string): string {
  const fail = (why: string): never => {
    throw new CliUsageError(`'${name}' is not a valid plugin name: ${why}. Use lowercase letters, digits and dashes, e.g. 'my-style'.`);
  };
  if (typeof name !== 'string' || name.length === 0) fail('it is empty');
  if (name !== name.trim()) fail('it has leading or trailing spaces');
  if (name.startsWith('@') || name.includes('/')) fail('give the bare name; the scope @modular-diffusers/plugin- is added for you');
  if (name !== name.toLowerCase()) fail('npm package names must be lowercase');
  if (name.startsWith('.') || name.startsWith('_')) fail('it may not start with a dot or an underscore');
  if (name.length > MAX_LENGTH) fail(`it is longer than ${MAX_LENGTH} characters`);
  if (!NAME.test(name)) fail('it has characters that are not url-safe');
  if (!/[a-z]/.test(name)) fail('it needs at least one letter to make class names from');
  return name;
}

/** `my-style` -> `MyStyle`, the prefix of the plugin's class names. */
export function pascalCase(name: string): string {
  const words = name.split(/[^a-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  // A class name cannot start with a digit.
  return /^[0-9]/.test(joined) ? `P${joined}` : joined;
}

/** `my-style` -> `MY_STYLE`, the prefix of the plugin's preset constants. */
export function constantCase(name: string): string {
  const words = name.split(/[^a-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w.toUpperCase()).join('_');
  return /^[0-9]/.test(joined) ? `P_${joined}` : joined;
}
