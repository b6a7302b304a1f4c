import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../contract';
import { scoreText, vehicleMotionText } from './alertText';

const alert = (kind: Alert['kind'], detail: Alert['detail'], score = 1): Alert => ({ kind, detail, score }) as Alert;

describe('alert card texts', () => {
  it('says whether the bus was moving, stopped, or that its speed is unknown; nothing for a fixed camera', () => {
    expect(vehicleMotionText(alert('barrier', { vehicleMoving: true, vehicleSpeedKmh: 31.6 }))).toBe('Vehicle moving (32 km/h)');
    expect(vehicleMotionText(alert('barrier', { vehicleMoving: false, vehicleSpeedKmh: 0 }))).toBe('Vehicle stopped');
    expect(vehicleMotionText(alert('fight', { vehicleMoving: null, vehicleSpeedKmh: null }))).toMatch(/unknown/);
    expect(vehicleMotionText(alert('crowding', { people: 3 }))).toBeNull();
  });

  it('gives each new rule its figure', () => {
    expect(scoreText(alert('intrusion', { people: 2 }))).toBe('2 on the tracks');
    expect(scoreText(alert('loitering', { dwellS: 420 }))).toBe('7 min in the zone');
    expect(scoreText(alert('unattended-object', { object: 'suitcase', aloneS: 31 }))).toBe('suitcase, alone 31 s');
    expect(scoreText(alert('crowd-surge', { rise: 8, windowS: 15 }))).toBe('+8 people in 15 s');
    expect(scoreText(alert('fight', {}, 0.91))).toBe('score 0.91');
  });
});
