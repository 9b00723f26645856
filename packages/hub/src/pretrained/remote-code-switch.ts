import { isTrueEnvValue, type HubEnv } from '../config/hub-config.js';

/** Variables that turn remote code off for the whole process: ours, and diffusers' own. */
export const REMOTE_CODE_KILL_SWITCHES = ['MODULAR_DIFFUSERS_DISABLE_REMOTE_CODE', 'DIFFUSERS_DISABLE_REMOTE_CODE'] as const;

/** The variable that turns remote code off (read like Python's booleans: 1/true/yes/on), or null when none does. */
export function remoteCodeDisabledBy(env: HubEnv = process.env): string | null {
  return REMOTE_CODE_KILL_SWITCHES.find((name) => isTrueEnvValue(env[name])) ?? null;
}
