// @ts-check
// The sandbox's console: strings only, each call one outbox line.
import { post, spendLogLine } from './outbox.js';
import { MAX_TEXT, StringOf, harden } from './realm.js';

/** @param {string} level */
function logger(level) {
  /** @param {unknown[]} args */
  return function log(...args) {
    let text = '';
    for (let i = 0; i < args.length && text.length <= MAX_TEXT; i += 1) {
      const a = args[i];
      let s;
      try { s = typeof a === 'string' ? a : StringOf(a); } catch { s = '[unprintable value]'; }
      text += (i > 0 ? ' ' : '') + s;
    }
    if (spendLogLine()) {
      post({ kind: 'log', level, message: text.slice(0, MAX_TEXT) }, []);
    }
  };
}
export const sandboxConsole = harden({
  log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug'),
});
