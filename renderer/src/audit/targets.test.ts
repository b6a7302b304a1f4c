import { describe, expect, it } from 'vitest';
import { targetText } from './targets';

describe('targetText', () => {
  const names = new Map([['c1', 'Clark/Lake platform']]);
  it('names a camera the console knows, and leaves other targets as recorded', () => {
    expect(targetText('camera:c1', (id) => names.get(id))).toBe('camera: Clark/Lake platform');
    expect(targetText('camera:gone', (id) => names.get(id))).toBe('camera:gone');
    expect(targetText('alert:1234', (id) => names.get(id))).toBe('alert:1234');
    expect(targetText(null, (id) => names.get(id))).toBe('');
  });
});
