// Which paths a repo stores through git-lfs, read from `.gitattributes` lines like
// `*.onnx filter=lfs diff=lfs merge=lfs -text`, with gitignore-style patterns.

const LFS_EXTENSIONS = [
  '7z', 'arrow', 'bin', 'bz2', 'ckpt', 'ftz', 'gz', 'h5', 'joblib', 'mlmodel', 'model', 'msgpack',
  'npy', 'npz', 'onnx', 'onnx_data', 'ot', 'parquet', 'pb', 'pickle', 'pkl', 'pt', 'pth', 'rar',
  'safetensors', 'tar', 'tflite', 'tgz', 'wasm', 'xz', 'zip', 'zst',
  // Images, as the Hub's dataset template tracks them (a plugin repo ships example images).
  'png', 'jpg', 'jpeg', 'webp', 'gif',
];

/**
 * The `.gitattributes` a new repo starts with: the Hub's model-repo defaults
 * (weights, archives, arrays, `saved_model/`, tfevents), plus ONNX external data
 * and images.
 */
export const DEFAULT_GITATTRIBUTES = [
  ...LFS_EXTENSIONS.map((ext) => `*.${ext} filter=lfs diff=lfs merge=lfs -text`),
  '*.lfs.* filter=lfs diff=lfs merge=lfs -text',
  '*.tar.* filter=lfs diff=lfs merge=lfs -text',
  'saved_model/**/* filter=lfs diff=lfs merge=lfs -text',
  '*tfevents* filter=lfs diff=lfs merge=lfs -text',
  '',
].join('\n');

interface LfsRule {
  pattern: RegExp;
  lfs: boolean;
}

function globToRegExp(glob: string): RegExp {
  // A pattern with no slash (other than a trailing one) matches a file name at any depth.
  const anchored = glob.replace(/\/$/, '').includes('/');
  let body = glob.replace(/^\//, '');
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '*' && body[i + 1] === '*') {
      const slashAfter = body[i + 2] === '/';
      out += slashAfter ? '(?:.*/)?' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const close = body.indexOf(']', i + 1);
      if (close === -1) {
        out += '\\[';
      } else {
        out += `[${body.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else {
      out += c.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  body = out;
  return new RegExp(anchored ? `^${body}$` : `(?:^|/)${body}$`);
}

/** The LFS rules of a `.gitattributes` text, in file order (a later line wins). */
export function parseLfsRules(text: string): LfsRule[] {
  const rules: LfsRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [pattern, ...attributes] = line.split(/\s+/);
    for (const attribute of attributes) {
      if (attribute === 'filter=lfs') rules.push({ pattern: globToRegExp(pattern), lfs: true });
      else if (/^[-!]filter$/.test(attribute) || (attribute.startsWith('filter=') && attribute !== 'filter=lfs')) {
        rules.push({ pattern: globToRegExp(pattern), lfs: false });
      }
    }
  }
  return rules;
}

/** Whether `.gitattributes` rules send this repo-relative path to LFS. */
export function isLfsTracked(path: string, rules: readonly LfsRule[]): boolean {
  let tracked = false;
  for (const rule of rules) if (rule.pattern.test(path)) tracked = rule.lfs;
  return tracked;
}

export type { LfsRule };
