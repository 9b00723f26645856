import { describe, expect, it } from 'vitest';
import { pyRepr, pySetOfStrings, pyStr } from './python-repr.js';

describe('pyRepr', () => {
  it('writes values the way Python repr does', () => {
    expect(pyRepr(true)).toBe('True');
    expect(pyRepr(false)).toBe('False');
    expect(pyRepr(null)).toBe('None');
    expect(pyRepr(undefined)).toBe('None');
    expect(pyRepr('pil')).toBe("'pil'");
    expect(pyRepr("it's")).toBe('"it\'s"');
    expect(pyRepr([0, 0])).toBe('[0, 0]');
    expect(pyRepr({ size: 224, crop: true })).toBe("{'size': 224, 'crop': True}");
    expect(pyRepr(7.5)).toBe('7.5');
    expect(pyStr('pil')).toBe('pil');
  });

  it('prints string sets sorted, like the guide banner', () => {
    expect(pySetOfStrings(['control_mode', 'control_image'])).toBe("{'control_image', 'control_mode'}");
    expect(pySetOfStrings([])).toBe('set()');
  });
});
