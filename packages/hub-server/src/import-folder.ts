import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parseLfsRules } from './gitattributes.js';
import { HubServerError } from './hub-server-error.js';
import { HubStore, type CommitOperation } from './hub-store.js';
import { DEFAULT_LFS_THRESHOLD_BYTES, uploadModeFor } from './lfs-policy.js';
import { parseRepoDesignation, repoFullName } from './repo-id.js';
import { DEFAULT_BRANCH } from './store-records.js';

export interface ImportFolderOptions {
  /** Branch to commit to; created from `main` if missing. Default `main`. */
  revision?: string;
  /** Also point this tag at the new commit. */
  tag?: string;
  /** Visibility when the repo has to be created. Default public. */
  private?: boolean;
  /** Author of the commit (and creator of a new repo). Default: the repo's namespace. */
  author?: string;
  commitTitle?: string;
  /** Size from which a file goes to LFS whatever its name. Default 10 MiB, as the Hub. */
  lfsThresholdBytes?: number;
}

export interface ImportFolderResult {
  /** `org/name`, with a `datasets/` or `spaces/` prefix for those types. */
  repo: string;
  revision: string;
  commitOid: string;
  files: number;
  lfsFiles: number;
}

/**
 * Makes a branch of a repo hold exactly the files of a local folder (its
 * `.gitattributes` kept unless the folder brings one), in one commit, creating the
 * repo if needed. Files go to LFS as a client upload would send them, so ids and
 * cache blob names are the ones an upload through `@huggingface/hub` would give.
 */
export async function importFolderToHubStore(
  store: HubStore | string,
  repoDesignation: string,
  folder: string,
  options: ImportFolderOptions = {},
): Promise<ImportFolderResult> {
  const hub = typeof store === 'string' ? await HubStore.open(store) : store;
  const repo = parseRepoDesignation(repoDesignation);
  const folderInfo = await stat(folder).catch(() => undefined);
  if (!folderInfo?.isDirectory()) throw new HubServerError(`Cannot import ${folder}: it is not a folder. Pass the folder that holds the repo's files.`);
  const author = options.author ?? repo.namespace;
  const branch = options.revision ?? DEFAULT_BRANCH;

  if (!(await hub.getRepo(repo))) await hub.createRepo(repo, { author, private: options.private });
  let head = await hub.resolveRevision(repo, branch);
  if (!head) {
    await hub.createBranch(repo, branch);
    head = await hub.resolveRevision(repo, branch);
  } else if (head.kind !== 'branch') {
    throw new HubServerError(`Cannot import into ${repoFullName(repo)}@${branch}: that is a ${head.kind}, not a branch. Import into a branch, then tag it with the tag option.`);
  }
  const current = (await hub.readCommit(repo, head!.sha))!;

  const paths = await listFilesUnder(folder);
  const attributesPath = paths.includes('.gitattributes') ? join(folder, '.gitattributes') : undefined;
  const attributes = attributesPath
    ? await readFile(attributesPath, 'utf8')
    : current.files['.gitattributes']
      ? await readFile(hub.contentPath(current.files['.gitattributes']), 'utf8')
      : '';
  const policy = { rules: parseLfsRules(attributes), thresholdBytes: options.lfsThresholdBytes ?? DEFAULT_LFS_THRESHOLD_BYTES };

  const operations: CommitOperation[] = [];
  let lfsFiles = 0;
  for (const path of paths) {
    const absolute = join(folder, ...path.split('/'));
    const size = (await stat(absolute)).size;
    const sample = await readSample(absolute, 512);
    if (uploadModeFor({ path, size, sample }, policy) === 'lfs') {
      const oid = await sha256OfFile(absolute);
      if ((await hub.lfsObjectSize(oid)) !== size) await hub.putLfsObject(createReadStream(absolute), { oid, size });
      // The operator's own bytes, hashed here: the repo holds the object from now on.
      await hub.grantLfs(repo, oid);
      operations.push({ kind: 'lfsFile', path, oid, size });
      lfsFiles++;
    } else {
      operations.push({ kind: 'file', path, content: await readFile(absolute) });
    }
  }
  const kept = new Set(paths);
  for (const path of Object.keys(current.files)) {
    if (!kept.has(path) && path !== '.gitattributes') operations.push({ kind: 'deletedFile', path });
  }

  const { commit } = await hub.commit(repo, {
    branch,
    title: options.commitTitle ?? `Import ${paths.length} files`,
    author,
    parentCommit: current.id,
    operations,
  });
  if (options.tag) await hub.createTag(repo, options.tag, commit.id);
  return {
    repo: repoDesignation,
    revision: branch,
    commitOid: commit.id,
    files: paths.length,
    lfsFiles,
  };
}

/** Repo-relative paths (forward slashes) of every file under `folder`, skipping `.git/`. */
async function listFilesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = relative(folder, join(entry.parentPath, entry.name)).split(sep).join('/');
    if (path === '.git' || path.startsWith('.git/')) continue;
    out.push(path);
  }
  return out.sort();
}

async function readSample(path: string, length: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
