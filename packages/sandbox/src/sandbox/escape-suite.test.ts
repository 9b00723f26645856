/**
 * Escape suite (reference notes §B.7). Each attack runs as plugin code and reports what it reached.
 * "Escaped" means it obtained a Function that compiles strings (ours cannot: code generation is off),
 * the host `process`, a foreign-realm object, or wrote the canary file / host canary global. Attacks
 * that cannot be contained must be bounded: a typed error, and a fresh sandbox still works after.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  RemoteCodeError,
  SandboxCodeRejectedError,
  SandboxMemoryError,
  SandboxTimeoutError,
  createSandbox,
  type Sandbox,
  type SandboxLimits,
} from './index.js';
import { CAN_WATCH_PROCESS_MEMORY } from './sandbox-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sandbox-escape-'));
const CANARY_FILE = join(dir, 'escaped.txt');
const g = globalThis as { __HOST_CANARY__?: string };

beforeAll(() => {
  g.__HOST_CANARY__ = 'intact';
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// Runs inside the sandbox (and, for the control test, inside a naive vm context).
const PROBE = String.raw`
const report = {};
const OBJECT_ROOT = Object.prototype;
function realmOf(x) {
  if (x === null || (typeof x !== 'object' && typeof x !== 'function')) return 'primitive';
  try {
    let p = x;
    for (let i = 0; i < 100; i += 1) { const q = Object.getPrototypeOf(p); if (q === null) break; p = q; }
    if (p === OBJECT_ROOT) return 'sandbox';
    return p === x ? 'null-prototype' : 'FOREIGN';
  } catch (e) { return 'unreadable'; }
}
let pendingWrites = [];
function exploit(F) {
  try { F('globalThis.__HOST_CANARY__ = "pwned"')(); } catch (e) {}
  try { F('return process')().getBuiltinModule('node:fs').writeFileSync(CANARY_FILE, 'escaped'); } catch (e) {}
  try {
    const req = F('return typeof require === "function" ? require : (process.mainModule && process.mainModule.require)')();
    if (req) req('fs').writeFileSync(CANARY_FILE, 'escaped');
  } catch (e) {}
  // Spelled in pieces so the static check does not reject the probe itself; only a foreign Function could run it.
  try { pendingWrites.push(F('return imp' + 'ort("node:fs").then((fs) => fs.writeFileSync(' + JSON.stringify(CANARY_FILE) + ', "escaped"))')()); } catch (e) {}
}
function probe(label, x) {
  const out = { realm: realmOf(x), reached: [] };
  const candidates = [];
  const grab = (f) => { try { const v = f(); if (typeof v === 'function') candidates.push(v); } catch (e) {} };
  grab(() => x.constructor);
  grab(() => x.constructor.constructor);
  grab(() => Object.getPrototypeOf(x).constructor.constructor);
  grab(() => x.__proto__.constructor.constructor);
  for (const F of candidates) {
    if (realmOf(F) === 'FOREIGN') out.reached.push('FOREIGN function');
    let made;
    try { made = F('return typeof process === "object" && process !== null ? process : "no process"'); } catch (e) { continue; }
    if (typeof made !== 'function') continue;
    // A Function that compiled a string is a foreign Function constructor: code generation is off here.
    out.reached.push('ESCAPED: compiled a string');
    try {
      const p = made();
      if (p && typeof p === 'object' && typeof p.pid === 'number') out.reached.push('ESCAPED: process');
    } catch (e) {}
    exploit(F);
  }
  report[label] = out;
  return out;
}
async function settleWrites() { for (const w of pendingWrites) { try { await w; } catch (e) {} } }
`;

function attackSource(body: string, { strict = true } = {}): string {
  return `(() => {${strict ? "'use strict';" : ''}
const CANARY_FILE = ${JSON.stringify(CANARY_FILE)};
${PROBE}
async function run(...args) {
${body}
}
// No await on pendingWrites here: a foreign-realm promise never settles inside this context (afterEvaluate).
defineBlocks(1, () => ({ attack: { async report(...args) { await run(...args); return report; } } }));
})();`;
}

// Budgets far above the work, so a loaded machine never trips them; attacks about a budget use code that never ends.
const limits: SandboxLimits = { memoryMb: 48, timeoutMs: 10_000, callTimeoutMs: 60_000 };
const hostCapabilities = {
  echo: (...args: unknown[]) => args as never,
  hostTypeError: () => {
    // A real host TypeError (wrong type reaching a host builtin), thrown from host code.
    return (null as unknown as { x: () => void }).x() as never;
  },
  hostThrowsObject: () => {
    throw { notAnError: true, fn: () => 'host function' };
  },
};

async function sandboxFor(body: string, options: { strict?: boolean } = {}): Promise<Sandbox> {
  return createSandbox({
    bundle: { source: attackSource(body, options), filename: 'attack.js' },
    capabilities: hostCapabilities,
    limits,
  });
}

type Report = Record<string, unknown>;

async function runAttack(body: string, options: { strict?: boolean } = {}, ...args: never[]): Promise<Report> {
  const sb = await sandboxFor(body, options);
  try {
    return (await sb.call('attack', 'report', ...args)) as Report;
  } finally {
    await sb.dispose();
  }
}

function expectContained(report: Report): void {
  const text = JSON.stringify(report);
  expect(text).not.toContain('ESCAPED');
  expect(text).not.toContain('FOREIGN');
  expect(existsSync(CANARY_FILE)).toBe(false);
  expect(g.__HOST_CANARY__).toBe('intact');
}

async function expectHostStillWorks(): Promise<void> {
  const sb = await createSandbox({
    bundle: { source: `(() => { defineBlocks(1, () => ({ f: (x) => x + 1 })); })();`, filename: 'after.js' },
    limits,
  });
  expect(await sb.call('f', null, 41)).toBe(42);
  await sb.dispose();
}

describe('control: the probe detects a real escape', () => {
  test('a naive vm context given a host object is escaped, and the probe says so', async () => {
    const script = `(async () => {${PROBE}\n probe('host object', hostObject); await settleWrites(); return JSON.stringify(report); })()`;
    const naive = vm.createContext({ hostObject: {}, CANARY_FILE });
    const report = JSON.parse(await (vm.runInContext(script, naive) as Promise<string>));
    expect(JSON.stringify(report)).toContain('ESCAPED: process');
    expect(existsSync(CANARY_FILE)).toBe(true);
    expect(g.__HOST_CANARY__).toBe('pwned');
    rmSync(CANARY_FILE);
    g.__HOST_CANARY__ = 'intact';
  });

  test('regression: an import() that slipped past the static check rejects with a host-realm error', async () => {
    // Same context options as the sandbox; Node 20 answers import() with an error from the host realm.
    const ctx = vm.createContext(vm.constants.DONT_CONTEXTIFY as never, { codeGeneration: { strings: false, wasm: false } });
    const realm = vm.runInContext(
      `(${PROBE.includes('realmOf') ? '' : ''}(async () => { try { await import('node:fs'); return 'imported'; } catch (e) {
         let p = e; while (Object.getPrototypeOf(p) !== null) p = Object.getPrototypeOf(p);
         return p === Object.prototype ? 'sandbox' : 'FOREIGN'; } })())`,
      ctx,
    ) as Promise<string>;
    expect(await realm).toMatch(/FOREIGN|imported/);
  });
});

describe('escape suite (reference §B.7)', () => {
  test('1. constructor chains from this, globalThis and its prototype', async () => {
    const report = await runAttack(`
      probe('this', this === undefined ? globalThis : this);
      probe('globalThis', globalThis);
      probe('global prototype', Object.getPrototypeOf(globalThis));
      probe('function', function () {});
      // Every global the sandbox can name, including non-enumerable and symbol-keyed ones.
      for (const key of Reflect.ownKeys(globalThis)) {
        let value;
        try { value = globalThis[key]; } catch (e) { value = e; }
        probe('global ' + String(key), value);
        if (value && (typeof value === 'object' || typeof value === 'function')) {
          for (const inner of Reflect.ownKeys(value)) { try { probe('global ' + String(key) + '.' + String(inner), value[inner]); } catch (e) { probe('threw ' + String(inner), e); } }
        }
      }
      report.globalsProbed = Object.keys(report).length;
      report.directFunction = (() => { try { return typeof Function('return 1'); } catch (e) { return e.name; } })();`);
    expectContained(report);
    expect(report.directFunction).toBe('EvalError');
    expect(report.globalsProbed as number).toBeGreaterThan(100);
  });

  test('1b. the same chains from sloppy-mode code', async () => {
    const report = await runAttack(`probe('sloppy this', (function () { return this; })()); probe('arguments', arguments);`, {
      strict: false,
    });
    expectContained(report);
  });

  test('2. constructor chains of every capability function/object and of errors thrown by capabilities', async () => {
    const report = await runAttack(`
      probe('capabilities', capabilities);
      probe('capability fn', capabilities.echo);
      probe('console', console);
      probe('console.log', console.log);
      probe('defineBlocks', defineBlocks);
      probe('defineLibrary', defineLibrary);
      probe('modularLibraries', modularLibraries);
      probe('harden', harden);
      probe('pump', __sandboxPump);
      probe('capability promise', capabilities.echo(1));
      probe('capability result', await capabilities.echo({ a: new Float32Array(2) }, [1]));
      const r = await capabilities.echo({ a: new Float32Array([1.5]) });
      probe('decoded typed array', r[0].a);
      for (const [name, call] of [
        ['host TypeError', () => capabilities.hostTypeError()],
        ['host throws object', () => capabilities.hostThrowsObject()],
        ['wrong arg type', () => capabilities.echo(() => 1)],
        ['bigint arg', () => capabilities.echo(1n)],
        ['missing capability', () => capabilities.nope()],
      ]) {
        try { await call(); report[name] = 'no error'; } catch (e) { probe(name, e); report[name + ' message'] = String(e.message); }
      }`);
    expectContained(report);
    expect(report['host TypeError message']).toMatch(/^capability "hostTypeError" failed: Cannot read properties of null/);
    expect(report['wrong arg type message']).toMatch(/function cannot cross the sandbox boundary/);
    expect(report['missing capability message']).toMatch(/not a function/);
  });

  test('3. eval, Function and the async/generator function constructors cannot compile strings', async () => {
    const report = await runAttack(`
      const attempts = {
        eval: () => eval('1 + 1'),
        indirectEval: () => (0, eval)('1 + 1'),
        Function: () => Function('return 1')(),
        AsyncFunction: () => (async () => {}).constructor('return 1'),
        GeneratorFunction: () => (function* () {}).constructor('yield 1'),
        AsyncGeneratorFunction: () => (async function* () {}).constructor('yield 1'),
        FunctionProtoCtor: () => Function.prototype.constructor('return 1'),
      };
      for (const [k, f] of Object.entries(attempts)) {
        try { f(); report[k] = 'ESCAPED: compiled'; } catch (e) { report[k] = e.name; probe(k + ' error', e); }
      }`);
    expectContained(report);
    for (const k of ['eval', 'indirectEval', 'Function', 'AsyncFunction', 'GeneratorFunction', 'AsyncGeneratorFunction']) {
      expect(['EvalError', 'TypeError']).toContain(report[k]);
    }
  });

  test('4. Error with a Symbol name, throwing message getters, then .stack', async () => {
    const report = await runAttack(`
      const e1 = new Error('x'); e1.name = Symbol('s');
      try { report.stack1 = typeof e1.stack; String(e1.stack); } catch (x) { probe('symbol name', x); }
      const e2 = new Error('y'); Object.defineProperty(e2, 'message', { get() { throw new Error('getter'); } });
      try { String(e2.stack); } catch (x) { probe('message getter', x); }
      const e3 = new TypeError('z'); e3.name = { toString() { throw new Error('toString'); } };
      try { String(e3.stack); } catch (x) { probe('name object', x); }
      try { Error.captureStackTrace(e1); String(e1.stack); } catch (x) { probe('captureStackTrace', x); }`);
    expectContained(report);
  });

  test('5. Error.prepareStackTrace call sites while called from the host; Error.captureStackTrace', async () => {
    const report = await runAttack(`
      const seen = [];
      try {
        Error.prepareStackTrace = (err, frames) => {
          for (const f of frames) {
            for (const m of ['getThis', 'getFunction', 'getEvalOrigin', 'getTypeName']) {
              try { if (typeof f[m] === 'function') seen.push(f[m]()); else report['callsite ' + m] = typeof f[m]; } catch (x) { seen.push(x); }
            }
          }
          return 'custom';
        };
      } catch (x) { report.assign = x.name; }
      const o = {}; try { Error.captureStackTrace(o); report.captured = typeof o.stack; } catch (x) { probe('capture', x); }
      try { report.stack = String(new Error('x').stack); } catch (x) { probe('stack', x); }
      await capabilities.echo(1);
      try { String(new Error('after await').stack); } catch (x) { probe('after await', x); }
      seen.forEach((v, i) => probe('frame value ' + i, v));
      report.frames = seen.length;`);
    expectContained(report);
    expect(report['callsite getFunction']).toBe('undefined');
    expect(report['callsite getThis']).toBe('undefined');
  });

  test('6. import() in any spelling is rejected statically, before anything compiles', async () => {
    for (const source of [
      `import('node:fs')`,
      `import(/**/'node:fs')`,
      `import\n('node:fs')`,
      `import /* c */ ('node:fs')`,
      `x = 1; import//c\n('fs')`,
      `[...import('fs')]`,
      `const o = { import(x) { return x; } };`,
      `const s = "import('fs')";`,
      `a <!-- b`,
      `a --> b`,
    ]) {
      await expect(
        createSandbox({ bundle: { source, filename: 'import.js' }, limits }),
        source,
      ).rejects.toBeInstanceOf(SandboxCodeRejectedError);
    }
    // A property named import is not a dynamic import.
    const sb = await createSandbox({
      bundle: { source: `(() => { const o = {}; o['imp' + 'ort'] = (x) => x; defineBlocks(1, () => ({ f: () => o.import(5) })); })();`, filename: 'ok.js' },
      limits,
    });
    expect(await sb.call('f', null)).toBe(5);
    await sb.dispose();
    // Host libraries are checked too: the plugin could otherwise call a library's import().
    await expect(
      createSandbox({
        bundle: { source: '1', filename: 'b.js' },
        libraries: [{ name: 'lib', source: `defineLibrary('lib', { load: (s) => import(s) })` }],
        limits,
      }),
    ).rejects.toBeInstanceOf(SandboxCodeRejectedError);
  });

  test('7. thenables, promises with own then, and hostile Promise species are resolved inside the sandbox', async () => {
    const sb = await createSandbox({
      bundle: {
        filename: 'thenable.js',
        source: `(() => { ${PROBE}
          const CANARY_FILE = ${JSON.stringify(CANARY_FILE)};
          defineBlocks(1, () => ({
            t: {
              thenable() { return { then(res, rej) { probe('res', res); probe('rej', rej); res({ value: 1 }); } }; },
              ownThen() {
                const p = Promise.resolve(2);
                Object.defineProperty(p, 'then', { value: function (a, b) { probe('own then a', a); return Promise.prototype.then.call(this, a, b); } });
                return p;
              },
              species() {
                const p = Promise.resolve(3);
                Object.defineProperty(p, 'constructor', { value: { [Symbol.species]: function (exec) { probe('species exec', exec); return new Promise(exec); } } });
                return p;
              },
              report() { return report; },
            },
          }));
        })();`,
      },
      limits,
    });
    expect(await sb.call('t', 'thenable')).toEqual({ value: 1 });
    expect(await sb.call('t', 'ownThen')).toBe(2);
    expect(await sb.call('t', 'species')).toBe(3);
    expectContained((await sb.call('t', 'report')) as Report);
    await sb.dispose();
  });

  test('8. a Proxy returned as data never sees a host object in its traps; throwing getters reject cleanly', async () => {
    const sb = await createSandbox({
      bundle: {
        filename: 'proxy.js',
        source: `(() => { ${PROBE}
          const CANARY_FILE = ${JSON.stringify(CANARY_FILE)};
          const handler = {};
          let probing = false;
          for (const trap of ['get', 'ownKeys', 'getOwnPropertyDescriptor', 'has', 'getPrototypeOf', 'apply']) {
            handler[trap] = (...args) => {
              // The probe itself touches the proxy; do not probe from inside a probe.
              if (!probing) { probing = true; try { args.forEach((a, i) => probe(trap + ' arg ' + i, a)); } finally { probing = false; } }
              return Reflect[trap](...args);
            };
          }
          defineBlocks(1, () => ({
            p: {
              proxy: () => new Proxy({ a: 1, b: [2, 3] }, handler),
              fnProxy: () => new Proxy(function () {}, handler),
              getter: () => ({ get boom() { throw new Error('getter threw'); } }),
              report: () => report,
            },
          }));
        })();`,
      },
      limits,
    });
    expect(await sb.call('p', 'proxy')).toEqual({ a: 1, b: [2, 3] });
    await expect(sb.call('p', 'fnProxy')).rejects.toThrow(/function cannot cross/);
    await expect(sb.call('p', 'getter')).rejects.toThrow(/getter threw/);
    const report = (await sb.call('p', 'report')) as Report;
    expect(Object.keys(report).length).toBeGreaterThan(0);
    expectContained(report);
    await sb.dispose();
  });

  test('9. inspect.custom, toJSON, toPrimitive and valueOf hooks on returned values are never called by the host', async () => {
    const sb = await createSandbox({
      bundle: {
        filename: 'hooks.js',
        source: `(() => {
          const called = [];
          const hooked = {
            data: 1,
            [Symbol.for('nodejs.util.inspect.custom')]: (...a) => { called.push('inspect'); return 'x'; },
            toJSON: () => { called.push('toJSON'); return 'x'; },
            [Symbol.toPrimitive]: () => { called.push('toPrimitive'); return 'x'; },
            valueOf: () => { called.push('valueOf'); return 1; },
            toString: () => { called.push('toString'); return 'x'; },
          };
          defineBlocks(1, () => ({ h: { value: () => hooked, called: () => called } }));
        })();`,
      },
      limits,
    });
    await expect(sb.call('h', 'value')).rejects.toThrow(/function cannot cross/);
    const { inspect } = await import('node:util');
    expect(inspect(await sb.call('h', 'called'))).toBe('[]');
    await sb.dispose();
  });

  test('10. array species on arrays passed to and returned from capabilities is never consulted', async () => {
    const report = await runAttack(`
      const calls = [];
      const hostile = [1, 2, 3];
      Object.defineProperty(hostile, 'constructor', { value: { [Symbol.species]: function (...a) { calls.push(a); a.forEach((x, i) => probe('species arg ' + i, x)); return []; } } });
      const back = await capabilities.echo(hostile);
      report.back = back;
      report.speciesCalls = calls.length;
      probe('returned array', back);`);
    expectContained(report);
    expect(report.back).toEqual([[1, 2, 3]]);
    expect(report.speciesCalls).toBe(0);
  });

  test('11. f.caller, arguments.callee.caller and Function.prototype.caller from functions the host invokes', async () => {
    const sb = await createSandbox({
      bundle: {
        filename: 'caller.js',
        source: `(() => { ${PROBE}
          const CANARY_FILE = ${JSON.stringify(CANARY_FILE)};
          function sloppy() {
            try { probe('f.caller', sloppy.caller); report.caller = typeof sloppy.caller; } catch (e) { report.caller = e.name; }
            try { probe('callee.caller', arguments.callee.caller); } catch (e) { report.callee = e.name; }
            try { report.protoCaller = typeof Function.prototype.caller; } catch (e) { report.protoCaller = e.name; }
            try { report.protoArguments = typeof Function.prototype.arguments; } catch (e) { report.protoArguments = e.name; }
            return report;
          }
          defineBlocks(1, () => ({ sloppy }));
        })();`,
      },
      limits,
    });
    const report = (await sb.call('sloppy', null)) as Report;
    expectContained(report);
    expect(['object', 'TypeError']).toContain(report.caller); // null (typeof 'object') or a TypeError
    await sb.dispose();
  });

  test('12. prototype pollution of context intrinsics throws (lockdown ran before any plugin code)', async () => {
    const report = await runAttack(`
      const attempts = {
        'Array.prototype.push': () => { Array.prototype.push = null; },
        'JSON.stringify': () => { JSON.stringify = () => 'x'; },
        'Object.prototype.toJSON': () => { Object.prototype.toJSON = () => 'x'; },
        'Promise.prototype.then': () => { Promise.prototype.then = null; },
        'Map.prototype.get': () => { Map.prototype.get = null; },
        'globalThis.JSON': () => { globalThis.JSON = {}; },
        'globalThis.capabilities': () => { globalThis.capabilities = {}; },
        'new global': () => { globalThis.leak = 1; },
        'Error.prototype.name': () => { Error.prototype.name = 'x'; },
      };
      for (const [k, f] of Object.entries(attempts)) { try { f(); report[k] = 'ESCAPED: mutated'; } catch (e) { report[k] = e.name; } }
      report.echo = await capabilities.echo([1, { a: 2 }]);`);
    expectContained(report);
    expect(report.echo).toEqual([[1, { a: 2 }]]);
  });

  test('13. stack exhaustion at every depth never leaks a host error from the wrappers', async () => {
    const report = await runAttack(`
      const caught = [];
      const ops = [
        () => capabilities.echo(new Float32Array(4), { a: [1] }),
        () => console.log('x', { a: 1 }),
        () => { const o = {}; Error.captureStackTrace(o); return o.stack; },
        () => String(new Error('x').stack),
        () => Promise.reject(new Error('r')),
        () => capabilities.hostTypeError(),
      ];
      for (const op of ops) {
        for (let pad = 0; pad < 8; pad += 1) {
          const rec = (d, a, b, c, e, f, g, h) => { try { return rec(d + 1, a, b, c, e, f, g, h); } catch (x) {
            try { const r = op(); if (r && typeof r.then === 'function') r.then(undefined, (y) => caught.push(y)); } catch (y) { caught.push(y); }
            return d; } };
          const args = new Array(pad).fill(pad);
          rec(0, ...args);
        }
      }
      await capabilities.echo(0);
      caught.forEach((e, i) => probe('caught ' + i, e));
      report.caught = caught.length;`);
    expectContained(report);
    expect(report.caught as number).toBeGreaterThan(0);
  });

  describe('14. CPU: bounded by the entry timeout or the call watchdog', () => {
    const loop = async (body: string) => {
      const sb = await createSandbox({
        bundle: { source: `(() => { defineBlocks(1, () => ({ f: async () => { ${body} } })); })();`, filename: 'cpu.js' },
        capabilities: hostCapabilities,
        limits: { ...limits, timeoutMs: 300 },
      });
      await expect(sb.call('f', null)).rejects.toBeInstanceOf(SandboxTimeoutError);
      expect(sb.alive).toBe(false);
      await expectHostStillWorks();
    };
    test('synchronous while(true)', () => loop('while (true) {}'));
    // Each microtask queues the next and returns nothing, so the chain starves the event loop without
    // growing the heap (a returned promise would nest every resolution, and on a loaded machine the
    // memory limit could then stop it before the CPU budget does).
    test('infinite microtask chain', () => loop('const spin = () => { Promise.resolve().then(spin); }; spin(); await new Promise(() => {});'));
    test('await a capability, then loop', () => loop('await capabilities.echo(1); while (true) {}'));
    test('Atomics is gone, so no Atomics.wait', async () => {
      const report = await runAttack(`report.atomics = typeof Atomics; report.sab = typeof SharedArrayBuffer;`);
      expect(report).toMatchObject({ atomics: 'undefined', sab: 'undefined' });
    });
  });

  describe('15. memory: the sandbox process dies with a clean error, the host survives', () => {
    const bomb = async (body: string, extra: SandboxLimits = {}) => {
      const sb = await createSandbox({
        bundle: { source: `(() => { defineBlocks(1, () => ({ f: () => { ${body} } })); })();`, filename: 'bomb.js' },
        // A generous CPU slice so that, even on a loaded machine, the memory limit is what stops it.
        limits: { ...limits, timeoutMs: 30_000, callTimeoutMs: 60_000, ...extra },
      });
      await expect(sb.call('f', null)).rejects.toBeInstanceOf(SandboxMemoryError);
      expect(sb.alive).toBe(false);
      await expectHostStillWorks();
    };
    // Doubling builds a cheap rope; upper/lower-casing flattens it, so every kept copy costs real heap.
    test('string doubling', () =>
      bomb(`let s = 'xy'; while (s.length < (1 << 22)) s = s + s; const keep = []; for (let i = 0; ; i += 1) keep.push(i % 2 ? s.toUpperCase() : s.toLowerCase());`));
    test('deep object graph', () => bomb(`let o = {}; for (;;) o = { next: o, pad: [o, o, o, o] };`));
    // The RSS guard reads /proc; elsewhere only the heap limit and the after-entry count hold.
    test.runIf(CAN_WATCH_PROCESS_MEMORY)('huge ArrayBuffers, filled (off-heap: caught by the RSS guard)', () =>
      bomb(`const keep = []; for (;;) { const b = new Uint8Array(16 * 1024 * 1024); b.fill(7); keep.push(b); }`, { externalMemoryMb: 64 }));
    test('huge ArrayBuffers, kept across calls (caught by the exact per-process count)', async () => {
      const sb = await createSandbox({
        bundle: { source: `(() => { const keep = []; defineBlocks(1, () => ({ f: () => { keep.push(new ArrayBuffer(48 * 1024 * 1024)); return keep.length; } })); })();`, filename: 'ab.js' },
        limits: { ...limits, externalMemoryMb: 100 },
      });
      expect(await sb.call('f', null)).toBe(1);
      expect(await sb.call('f', null)).toBe(2);
      await expect(sb.call('f', null)).rejects.toBeInstanceOf(SandboxMemoryError);
      await expectHostStillWorks();
    });
  });

  test('16. WebAssembly is gone (no wasm compile, no JSPI promising/Suspending)', async () => {
    const report = await runAttack(`report.wasm = typeof WebAssembly;
      try { report.viaGlobal = typeof globalThis['Web' + 'Assembly']; } catch (e) { report.viaGlobal = e.name; }`);
    expect(report).toMatchObject({ wasm: 'undefined', viaGlobal: 'undefined' });
  });

  test('17. no Node globals, no shared memory, no untimed callbacks', async () => {
    const names = ['process', 'require', 'module', 'exports', 'Buffer', 'fetch', 'setTimeout', 'setInterval', 'setImmediate',
      'queueMicrotask', 'structuredClone', 'SharedArrayBuffer', 'Atomics', 'WebAssembly', 'FinalizationRegistry',
      'WeakRef', 'Compartment', 'lockdown', 'global', '__filename', 'TextDecoder', 'performance'];
    const report = await runAttack(`for (const n of ${JSON.stringify(names)}) report[n] = eval === undefined ? 'x' : typeof globalThis[n];
      report.frozen = Object.isFrozen(globalThis);`);
    for (const n of names) expect(report[n], n).toBe('undefined');
    expect(report.frozen).toBe(true);
  });

  test('18. capability objects and globalThis cannot be mutated; two plugins share nothing', async () => {
    const report = await runAttack(`
      const attempts = {
        replaceCapability: () => { capabilities.echo = () => 'hijacked'; },
        deleteCapability: () => { delete capabilities.echo; },
        defineOnCapabilities: () => { Object.defineProperty(capabilities, 'x', { value: 1 }); },
        consoleLog: () => { console.log = () => {}; },
        globalVar: () => { globalThis.shared = 'from A'; },
        intrinsic: () => { Object.prototype.shared = 'from A'; },
      };
      for (const [k, f] of Object.entries(attempts)) { try { f(); report[k] = 'ESCAPED: mutated'; } catch (e) { report[k] = e.name; } }
      report.stillEcho = (await capabilities.echo(5))[0];`);
    expectContained(report);
    expect(report.stillEcho).toBe(5);
    const other = await runAttack(`report.shared = typeof shared; report.proto = ({}).shared === undefined;`);
    expect(other).toMatchObject({ shared: 'undefined', proto: true });
  });

  test('19. async generator yield*/return() and AggregateError/SuppressedError wrapping a host failure', async () => {
    const report = await runAttack(`
      async function* inner() { yield 1; await capabilities.hostTypeError(); }
      async function* outer() { try { yield* inner(); } catch (e) { probe('yield* catch', e); yield 'caught'; } }
      const it = outer(); const seen = [];
      for await (const v of it) seen.push(v);
      report.seen = seen;
      const it2 = outer(); await it2.next();
      try { await it2.return(await capabilities.echo(1)); } catch (e) { probe('return()', e); }
      try { await Promise.any([capabilities.hostTypeError(), capabilities.hostThrowsObject()]); } catch (e) {
        probe('AggregateError', e); (e.errors || []).forEach((x, i) => probe('aggregated ' + i, x));
      }
      report.suppressed = typeof SuppressedError;
      if (typeof SuppressedError === 'function') {
        try { await capabilities.hostTypeError(); } catch (e) { const s = new SuppressedError(e, e, 'x'); probe('suppressed', s.error); }
      }`);
    expectContained(report);
    expect(report.seen).toEqual([1, 'caught']);
  });

  test('20. unhandled rejections inside the sandbox neither crash the host nor get inspected', async () => {
    const sb = await createSandbox({
      bundle: {
        filename: 'unhandled.js',
        source: `(() => {
          const touched = [];
          const hostile = new Proxy({}, { get(t, k) { touched.push(String(k)); return undefined; }, getPrototypeOf() { touched.push('proto'); return null; } });
          Promise.reject(hostile);
          defineBlocks(1, () => ({ u: {
            again() { Promise.reject(hostile); Promise.reject(new Error('plain')); (async () => { throw hostile; })(); return 'ok'; },
            touched: () => touched,
          } }));
        })();`,
      },
      limits,
    });
    expect(await sb.call('u', 'again')).toBe('ok');
    await new Promise((r) => setTimeout(r, 50));
    expect(await sb.call('u', 'touched')).toEqual([]);
    expect(sb.alive).toBe(true);
    await sb.dispose();
  });
});

describe('more attempts found while building the sandbox', () => {
  test('a thrown Proxy at load is described inside the sandbox, with no host value in its traps', async () => {
    const error = await createSandbox({
      bundle: {
        filename: 'proxy-throw.js',
        source: `(() => { ${PROBE}
          const CANARY_FILE = ${JSON.stringify(CANARY_FILE)};
          let probing = false;
          throw new Proxy(new Error('proxied'), { get(t, k, r) {
            if (!probing) { probing = true; try { probe('receiver', r); probe('target', t); } finally { probing = false; } }
            if (k === 'message' && JSON.stringify(report).includes('ESCAPED')) return 'ESCAPED';
            return Reflect.get(t, k);
          } });
        })();`,
      },
      limits,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(RemoteCodeError);
    expect(error.remoteMessage).toBe('proxied');
    expect(existsSync(CANARY_FILE)).toBe(false);
  });

  test('a thrown error whose name getter never returns is bounded', async () => {
    const error = await createSandbox({
      bundle: { filename: 'slow-name.js', source: `(() => { const e = new Error('x'); Object.defineProperty(e, 'name', { get() { for (;;) {} } }); throw e; })();` },
      limits: { ...limits, timeoutMs: 300 },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(SandboxTimeoutError);
    await expectHostStillWorks();
  });

  test('plugin calls to the pump and to defineLibrary/defineBlocks after load are harmless', async () => {
    const report = await runAttack(`
      for (let i = 0; i < 3; i += 1) report['pump ' + i] = String(__sandboxPump());
      try { defineLibrary('x', {}); } catch (e) { report.defineLibrary = e.message; }
      try { defineBlocks(1, () => ({ evil: 1 })); } catch (e) { report.defineBlocks = e.message; }
      report.echo = (await capabilities.echo('still works'))[0];`);
    expectContained(report);
    expect(report).toMatchObject({
      'pump 0': 'undefined',
      defineLibrary: 'defineLibrary() is only available while host libraries load',
      defineBlocks: 'defineBlocks() can only be called while the plugin bundle loads',
      echo: 'still works',
    });
  });

  test('a capability flood is capped in the sandbox instead of flooding the host', async () => {
    let served = 0;
    const sb = await createSandbox({
      bundle: {
        filename: 'flood.js',
        source: `(() => { defineBlocks(1, () => ({ f: async () => {
          const ps = []; for (let i = 0; i < 5000; i += 1) ps.push(capabilities.slow().then(() => 'ok', (e) => e.message));
          const r = await Promise.all(ps); return r.filter((m) => m.startsWith('too many')).length; } })); })();`,
      },
      capabilities: { slow: () => { served += 1; return null; } },
      // The cap is what is tested, not speed: 5,000 round trips need more than 5 s on a loaded CI machine.
      limits: { ...limits, callTimeoutMs: 60_000 },
    });
    expect(await sb.call('f', null)).toBe(5000 - 4096);
    expect(served).toBe(4096);
    await sb.dispose();
  });
});
