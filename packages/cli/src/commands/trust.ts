/**
 * `modular trust list|show|revoke`: the remote-code lock, where every repo whose code was trusted
 * is pinned to a commit and the sha256 of its code and config files. Revoking a pin makes the next
 * trusted load pin what it finds (after its own trust flag, as always).
 */
import type { Command } from 'commander';
import { RemoteCodeLock, resolveHubConfig, type HubEnv, type RemoteCodePin } from '@modular-diffusers/hub';
import { CliError } from '../errors.js';
import type { CliIo } from '../program.js';

export interface TrustListEntry extends RemoteCodePin {
  repo: string;
}

/** The lock under the HF_HOME the environment names (`$HF_HOME/modular-diffusers/remote-code.lock.json`). */
export function remoteCodeLock(env?: HubEnv): RemoteCodeLock {
  return new RemoteCodeLock(resolveHubConfig({ env }));
}

/** Every pin, sorted by repo. */
export async function listTrusted(env?: HubEnv): Promise<{ lockFile: string; entries: TrustListEntry[] }> {
  const lock = remoteCodeLock(env);
  const repos = await lock.read();
  return { lockFile: lock.path, entries: Object.keys(repos).sort().map((repo) => ({ repo, ...repos[repo]! })) };
}

function missing(repo: string, lockFile: string): CliError {
  return new CliError(`${repo} is not pinned in ${lockFile}; \`modular trust list\` shows the repos whose code was trusted.`);
}

/** Removes the pin of `repo`; fails when it has none. */
export async function revokeTrust(repo: string, env?: HubEnv): Promise<RemoteCodePin> {
  const lock = remoteCodeLock(env);
  const removed = await lock.revoke(repo);
  if (!removed) throw missing(repo, lock.path);
  return removed;
}

export function registerTrustCommands(program: Command, io: CliIo): void {
  const trust = program
    .command('trust')
    .description("The remote-code lock: the commit and file hashes each trusted repo's code is pinned to.");
  trust
    .command('list')
    .description('List the pinned repos: commit, the revision it was loaded from, when.')
    .action(async () => {
      const { lockFile, entries } = await listTrusted(io.env as HubEnv | undefined);
      io.out(`Remote-code lock: ${lockFile}\n`);
      if (entries.length === 0) {
        io.out('No repo is pinned: no remote code has been trusted with this cache.\n');
        return;
      }
      const width = Math.max(...entries.map((e) => e.repo.length));
      for (const e of entries) io.out(`${e.repo.padEnd(width)}  ${e.commit}  ${(e.revision ?? '(unknown)').padEnd(8)}  ${e.trustedAt || '(not recorded)'}\n`);
    });
  trust
    .command('show')
    .description('Show what is pinned for one repo: its commit and the sha256 of each file.')
    .argument('<repo>', 'the repo id (owner/name)')
    .action(async (repo: string) => {
      const lock = remoteCodeLock(io.env as HubEnv | undefined);
      const pin = await lock.get(repo);
      if (!pin) throw missing(repo, lock.path);
      io.out(`${repo}\n  commit    ${pin.commit}\n  revision  ${pin.revision ?? '(not recorded: pinned by an older version)'}\n  trusted   ${pin.trustedAt || '(not recorded)'}\n  files\n`);
      for (const [path, sha] of Object.entries(pin.files)) io.out(`    ${sha}  ${path}\n`);
    });
  trust
    .command('revoke')
    .description('Forget the pin of a repo: its next trusted load pins what it finds then.')
    .argument('<repo>', 'the repo id (owner/name)')
    .action(async (repo: string) => {
      const removed = await revokeTrust(repo, io.env as HubEnv | undefined);
      io.out(`Revoked the pin of ${repo} (commit ${removed.commit}). Its code runs again only with --trust-remote-code, pinned anew.\n`);
    });
}
