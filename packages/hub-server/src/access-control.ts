import { HubHttpError, HubServerError, repoNotFound } from './hub-server-error.js';
import { isValidRepoName, type HubRepoId } from './repo-id.js';
import type { RepoRecord } from './store-records.js';

/** A user a token stands for. */
export interface HubUserConfig {
  name: string;
  /** Organisations the user belongs to: they can write to repos under these namespaces. */
  orgs?: string[];
  /** A `read` token can see the user's private repos but not write. Default `write`. */
  role?: 'read' | 'write';
  fullname?: string;
  email?: string;
}

/** Tokens the server accepts: `{ hf_xxx: 'alice' }` or `{ hf_xxx: { name: 'alice', orgs: ['acme'] } }`. */
export type HubTokens = Record<string, string | HubUserConfig>;

export interface HubCaller {
  token: string;
  user: Required<Pick<HubUserConfig, 'name' | 'orgs' | 'role'>> & HubUserConfig;
}

/** Who may see and change what, from the tokens given at server start. */
export class AccessControl {
  private readonly users = new Map<string, HubCaller['user']>();

  constructor(tokens: HubTokens = {}) {
    for (const [token, config] of Object.entries(tokens)) {
      // @huggingface/hub refuses to send any other token, so one would be unusable.
      if (!/^hf_[A-Za-z0-9_-]+$/.test(token)) {
        throw new HubServerError(`Token "${token.slice(0, 6)}…" must start with "hf_" and use letters, digits, "_" or "-": the client refuses other tokens.`);
      }
      const user = typeof config === 'string' ? { name: config } : config;
      if (!user || !isValidRepoName(user.name)) {
        throw new HubServerError(`The user of token "${token.slice(0, 6)}…" needs a valid name (letters, digits, "-", "_", ".").`);
      }
      this.users.set(token, { ...user, orgs: user.orgs ?? [], role: user.role ?? 'write' });
    }
  }

  /** The caller behind an `Authorization` header; 401 for a token the server does not know. */
  authenticate(authorization: string | undefined): HubCaller | undefined {
    if (!authorization) return undefined;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    const user = match ? this.users.get(match[1]) : undefined;
    if (!match || !user) {
      throw new HubHttpError(401, 'Invalid credentials in Authorization header: the token is unknown to this server (use one given in its tokens option).', 'InvalidCredentials');
    }
    return { token: match[1], user };
  }

  requireCaller(caller: HubCaller | undefined): HubCaller {
    if (!caller) throw new HubHttpError(401, 'You must be authenticated: pass an access token (Authorization: Bearer hf_...).', 'Unauthorized');
    return caller;
  }

  private isMember(caller: HubCaller | undefined, namespace: string): boolean {
    return !!caller && (caller.user.name === namespace || caller.user.orgs.includes(namespace));
  }

  canRead(record: RepoRecord, caller: HubCaller | undefined): boolean {
    return !record.private || this.isMember(caller, record.namespace);
  }

  /** Throws the Hub's answer when the caller cannot see the repo (which may not exist). */
  assertCanRead(record: RepoRecord | undefined, caller: HubCaller | undefined): asserts record is RepoRecord {
    if (!record || !this.canRead(record, caller)) throw repoNotFound(!!caller);
  }

  /** Throws unless the caller may write under the repo's namespace. */
  assertCanWrite(repo: HubRepoId, record: RepoRecord | undefined, caller: HubCaller | undefined): void {
    if (record) this.assertCanRead(record, caller);
    const who = this.requireCaller(caller);
    if (!this.isMember(who, repo.namespace)) {
      throw new HubHttpError(403, `You don't have the rights to write to ${repo.namespace}/${repo.name}: ${who.user.name} is not ${repo.namespace} nor a member of it.`, 'Forbidden');
    }
    if (who.user.role !== 'write') {
      throw new HubHttpError(403, `This token of ${who.user.name} is read-only: use a write token to change ${repo.namespace}/${repo.name}.`, 'Forbidden');
    }
  }
}
