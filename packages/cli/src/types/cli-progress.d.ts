// The part of cli-progress 3.x this package uses (the package ships no types and
// @types/cli-progress is not installed).
declare module 'cli-progress' {
  export interface Options {
    format?: string;
    stream?: NodeJS.WritableStream;
    hideCursor?: boolean;
    clearOnComplete?: boolean;
    stopOnComplete?: boolean;
    noTTYOutput?: boolean;
    autopadding?: boolean;
    formatValue?: (value: number, options: unknown, type: string) => string;
  }
  export interface Preset {
    barCompleteChar: string;
    barIncompleteChar: string;
    format?: string;
  }
  export class SingleBar {
    constructor(options: Options, preset?: Preset);
    start(total: number, start: number, payload?: Record<string, unknown>): void;
    update(current: number, payload?: Record<string, unknown>): void;
    setTotal(total: number): void;
    stop(): void;
  }
  export class MultiBar {
    constructor(options: Options, preset?: Preset);
    create(total: number, start: number, payload?: Record<string, unknown>): SingleBar;
    remove(bar: SingleBar): boolean;
    stop(): void;
  }
  export const Presets: { shades_classic: Preset; shades_grey: Preset; legacy: Preset; rect: Preset };
}
