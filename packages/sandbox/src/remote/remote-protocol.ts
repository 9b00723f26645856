/**
 * The messages between a RemoteModularPipeline (host) and its driver inside
 * the sandbox. Types only plus a few names: the file is bundled into the
 * sandbox as well, so it stays free of Node APIs.
 */

/** Key under which the driver's API is added to the plugin bundle's exports. */
export const REMOTE_DRIVER_EXPORT = '@remote';
/** Name of the bootstrap library inside the sandbox. */
export const REMOTE_DRIVER_LIBRARY = '@modular-diffusers/remote-driver';
/** Protocol version, bumped on incompatible changes between the host and the bundled driver. */
export const REMOTE_PROTOCOL_VERSION = 1;

export interface ComponentSpecJson {
  name: string;
  type: string;
  library: string | null;
  description: string;
  config: Record<string, unknown> | null;
  repo: string | null;
  subfolder: string | null;
  variant: string | null;
  revision: string | null;
  defaultCreationMethod: 'fromConfig' | 'fromPretrained';
}

export interface ConfigSpecJson {
  name: string;
  default: unknown;
  description: string;
}

export interface InputParamJson {
  name: string | null;
  typeHint: string;
  description: string;
  required: boolean;
  default: unknown;
  kwargsType: string | null;
  metadata: Record<string, unknown> | null;
  /** Each branch's default when a conditional block's branches disagree (encoded values), else null. */
  defaultsByBlock?: Record<string, unknown> | null;
}

export interface OutputParamJson {
  name: string;
  typeHint: string;
  description: string;
  kwargsType: string | null;
  metadata: Record<string, unknown> | null;
}

/** One block as the sandbox sees it: declarations, printouts and sub-blocks, all as data. */
export interface RemoteBlockDescription {
  className: string;
  baseClassName: string;
  modelName: string | null;
  description: string;
  isComposite: boolean;
  isSkippable: boolean;
  showsTriggerBanner: boolean;
  printout: string;
  doc: string;
  components: ComponentSpecJson[];
  configs: ConfigSpecJson[];
  inputs: InputParamJson[];
  outputs: OutputParamJson[];
  triggerInputs: string[];
  subBlocks: Array<[string, RemoteBlockDescription]>;
}

export interface RemoteDescribeResult {
  protocol: number;
  root: RemoteBlockDescription;
  /** The pipeline class the sandbox picks for these blocks (by model name). */
  pipelineClassName: string;
  /** Component types the sandbox builds itself from a config (schedulers, guiders). */
  sandboxConfigTypes: string[];
  /** Every export of the bundle, for error messages. */
  exportNames: string[];
}

/** What the host offers the sandbox for one component slot. */
export type ComponentOffer =
  | { name: string; kind: 'none'; revision: number }
  /** A pure component (scheduler, guider): rebuilt inside the sandbox from its class name and config. */
  | { name: string; kind: 'config'; revision: number; type: string; config: Record<string, unknown> }
  /** A host component reached through `capabilities.invokeComponent`. */
  | { name: string; kind: 'proxy'; revision: number; type: string; methods: string[]; properties: Record<string, unknown> };

export interface RemoteInitRequest {
  exportName: string;
  /** Sub-block path under the export (empty for the export itself). */
  path: string[];
  repo: string | null;
  components: ComponentOffer[];
  config: Record<string, unknown>;
}

export interface RemoteSyncRequest {
  components: ComponentOffer[];
  config: Record<string, unknown>;
}

export interface RemoteRunRequest {
  runId: number;
  inputs: Record<string, unknown>;
  output: string | string[] | null;
  strict: boolean | null;
}

/** A progress event from a loop block of a remote run. */
export interface RemoteProgress {
  block: string;
  step: number;
  total: number | null;
}
