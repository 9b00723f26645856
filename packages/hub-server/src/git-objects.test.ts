import { describe, expect, it } from 'vitest';
import { gitBlobSha1, gitCommitSha1, gitTreeIds, lfsPointer, sha256Hex } from './git-objects.js';

// Expected ids come from git itself (git 2.x, in a scratch repo):
//   printf 'hello\n' | git hash-object --stdin          -> ce0136...
//   printf '{"x":1}' | git hash-object --stdin          -> 9758f8...
//   git write-tree over a.txt + d/c.json                -> a369e5...  (d -> 56c8af...)
//   GIT_{AUTHOR,COMMITTER}_{NAME,EMAIL,DATE}=alice/alice@users.noreply.localhost/'1700000000 +0000'
//   git commit-tree <tree> -m "initial commit"          -> 9a6348...
describe('git object ids', () => {
  it('hashes blobs as git hash-object does', () => {
    expect(gitBlobSha1(Buffer.from('hello\n'))).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    expect(gitBlobSha1(Buffer.alloc(0))).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
  });

  it('hashes nested trees as git write-tree does', () => {
    const files = new Map([
      ['a.txt', gitBlobSha1(Buffer.from('hello\n'))],
      ['d/c.json', gitBlobSha1(Buffer.from('{"x":1}'))],
    ]);
    const trees = gitTreeIds(files);
    expect(files.get('d/c.json')).toBe('9758f8161c9652d953d109cac63c71047844cf17');
    expect(trees.get('d')).toBe('56c8af3f736cc7fa78b3177d2716fe0ec1be8a7f');
    expect(trees.get('')).toBe('a369e5f0ddc54c7d4fa13a23aa4460186e80d52b');
  });

  it('sorts a folder after a same-prefix file as git does ("a.b" < "a/" < "a0")', () => {
    const blob = gitBlobSha1(Buffer.from('hello\n'));
    const forward = gitTreeIds(new Map([['a.b', blob], ['a/x', blob], ['a0', blob]]));
    const reversed = gitTreeIds(new Map([['a0', blob], ['a/x', blob], ['a.b', blob]]));
    // git write-tree over files a.b, a/x, a0 (each 'hello\n'):
    expect(forward.get('')).toBe('789782debc5f8a6357d255c85ef58af981aa5a9e');
    expect(reversed.get('')).toBe('789782debc5f8a6357d255c85ef58af981aa5a9e');
  });

  it('hashes commits as git commit-tree does', () => {
    expect(
      gitCommitSha1({
        tree: 'a369e5f0ddc54c7d4fa13a23aa4460186e80d52b',
        parents: [],
        authorName: 'alice',
        authorEmail: 'alice@users.noreply.localhost',
        timestamp: 1700000000,
        message: 'initial commit',
      }),
    ).toBe('9a6348f1a00eed1eafd0c265693278d7410cb0bc');
  });

  it('writes git-lfs pointers whose git id matches git hash-object', () => {
    const content = Buffer.alloc(4096, 7);
    const oid = sha256Hex(content);
    expect(oid).toBe('c9ac7b0624824f844f6c7f3d50fab9741a8914e878467e8daaedca143a34d90b');
    const pointer = lfsPointer(oid, content.byteLength);
    expect(pointer.byteLength).toBe(129);
    expect(gitBlobSha1(pointer)).toBe('52d72c773750bea155ce26bddd2f2c7e34fc27f1');
  });
});
