/**
 * diffusers' variant rule on a folder's file names. A variant file is
 * `<stem>.<variant>.<rest>` (or `<stem>.<variant>-00001-of-00002.<rest>` when
 * sharded), e.g. `model.fp16.onnx` beside `model.onnx`, with its external
 * data `model.fp16.onnx_data`.
 *
 * - Without a variant, variant files are left out: a name is a variant file
 *   when a plain file with the same stem sits in the same folder and its
 *   middle part is a variant seen as `<stem>.<v>.<ext>` beside `<stem>.<ext>`
 *   (so `model.onnx.data` next to `model.onnx` stays: `model.data` is absent).
 * - With a variant `v`, `<stem>.v.<rest>` files are taken, and a plain file
 *   is left out when its stem has `v` files; stems without a `v` file keep
 *   their plain files (as diffusers falls back to them); other variants are left out.
 */
export function selectVariantFiles(paths: readonly string[], variant: string | null): string[] {
  const byFolder = new Map<string, string[]>();
  for (const path of paths) {
    const slash = path.lastIndexOf('/');
    const folder = slash < 0 ? '' : path.slice(0, slash);
    const list = byFolder.get(folder) ?? [];
    list.push(path.slice(slash + 1));
    byFolder.set(folder, list);
  }
  const keep = new Set<string>();
  for (const [folder, names] of byFolder) {
    for (const name of selectInFolder(names, variant)) keep.add(folder ? `${folder}/${name}` : name);
  }
  return paths.filter((p) => keep.has(p));
}

interface NameParts {
  name: string;
  stem: string;
  /** The middle part with any shard suffix removed, or null for `stem.ext` names. */
  variant: string | null;
}

const SHARD_SUFFIX = /-\d+-of-\d+$/;

function partsOf(name: string): NameParts {
  const pieces = name.split('.');
  if (pieces.length < 3 || pieces[0] === '') return { name, stem: pieces[0] === '' ? name : pieces[0]!, variant: null };
  return { name, stem: pieces[0]!, variant: pieces[1]!.replace(SHARD_SUFFIX, '') };
}

function selectInFolder(names: readonly string[], variant: string | null): string[] {
  const present = new Set(names);
  const parts = names.map(partsOf);
  const plainStems = new Set(names.filter((n) => n.split('.').length === 2).map((n) => n.split('.')[0]!));
  // Variants proven by a counterpart: `<stem>.<v>.<ext>` next to `<stem>.<ext>`.
  const knownVariants = new Set<string>();
  for (const p of parts) {
    if (p.variant === null) continue;
    const ext = p.name.split('.').slice(2).join('.');
    if (present.has(`${p.stem}.${ext}`)) knownVariants.add(p.variant);
  }
  if (variant) knownVariants.add(variant);
  const isVariantFile = (p: NameParts): boolean =>
    p.variant !== null && knownVariants.has(p.variant) && (p.variant === variant || plainStems.has(p.stem));

  if (!variant) return parts.filter((p) => !isVariantFile(p)).map((p) => p.name);
  const stemsWithVariant = new Set(parts.filter((p) => p.variant === variant).map((p) => p.stem));
  return parts
    .filter((p) => (isVariantFile(p) ? p.variant === variant : !stemsWithVariant.has(p.stem)))
    .map((p) => p.name);
}
