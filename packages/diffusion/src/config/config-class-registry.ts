/**
 * Component classes by diffusers class name, so a saved config's
 * `_class_name` picks the class (schedulers, guiders). Loading the JSON is
 * the caller's job: this package takes parsed config objects and never
 * touches the disk.
 */
import { ComponentConfigError } from '../errors.js';
import type { RawConfig } from './config-fields.js';

export interface ConfigClass<T> {
  readonly className: string;
  fromConfig(config?: RawConfig, overrides?: RawConfig): T;
}

export class ConfigClassRegistry<T, C extends ConfigClass<T> = ConfigClass<T>> {
  private readonly classes = new Map<string, C>();

  /**
   * @param kind what the classes are ('scheduler', 'guider'), for messages
   * @param unknownHint the sentence an unknown class name's error ends with
   */
  constructor(
    private readonly kind: string,
    classes: readonly C[] = [],
    private readonly unknownHint = 'Pick one of those (pass { className }), or register the class first.',
  ) {
    for (const cls of classes) this.register(cls);
  }

  /** Add (or replace) a class under its `className`; plugins register their own classes this way. */
  register(cls: C): this {
    this.classes.set(cls.className, cls);
    return this;
  }

  has(className: string): boolean {
    return this.classes.has(className);
  }

  names(): string[] {
    return [...this.classes.keys()];
  }

  get(className: string): C {
    const cls = this.classes.get(className);
    if (!cls) {
      throw new ComponentConfigError(
        `Unknown ${this.kind} class '${className}'. Registered: ${this.names().join(', ')}. ${this.unknownHint}`,
        className,
        '_class_name',
        'unknown-class',
      );
    }
    return cls;
  }

  /**
   * Builds one from a parsed config. The class is `options.className` when
   * given (e.g. swapping schedulers on the same config), else the config's
   * `_class_name`.
   */
  fromConfig(config: RawConfig, options: { className?: string; overrides?: RawConfig } = {}): T {
    const className = options.className ?? config?._class_name;
    if (typeof className !== 'string') {
      throw new ComponentConfigError(
        `This ${this.kind} config has no \`_class_name\`; pass { className: '${this.names()[0]}' } to choose the ${this.kind}.`,
        'unknown',
        '_class_name',
        'unknown-class',
      );
    }
    return this.get(className).fromConfig(config, options.overrides ?? {});
  }
}
