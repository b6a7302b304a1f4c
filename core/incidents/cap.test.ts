import { describe, expect, it } from 'vitest';
import type { Incident } from '../../contract';
import { capTime, escapeXml, incidentToCap } from './cap';

const base: Incident = {
  id: 'inc-1',
  title: 'Possible fight at <Clark & Lake>',
  kind: 'fight',
  state: 'new',
  cameraId: 'c1',
  cameraName: 'Clark/Lake "2"',
  zoneId: null,
  vehicleId: '1234',
  stationId: '40380',
  scope: {
    placement: {
      lat: 41.8857,
      lon: -87.6309,
      district: '1',
      communityArea: 'Loop',
      nearestStation: { id: '40380', name: 'Clark/Lake', distanceM: 20 },
      vehicleId: '1234',
      stale: false,
    },
    district: '1',
    lines: ['Blue'],
    routes: [],
  },
  assignee: null,
  alertIds: ['a1'],
  links: [],
  createdAt: '2026-11-28T20:46:01.123Z',
  updatedAt: '2026-11-28T20:46:01.123Z',
  acknowledgedAt: null,
  dispatchedAt: null,
  resolvedAt: null,
  timeToAcknowledgeS: null,
  events: [{ at: '2026-11-28T20:46:01.123Z', actor: null, kind: 'created', state: 'new', text: 'a1' }],
};

describe('CAP 1.2 export', () => {
  it('escapes XML and writes CAP times without milliseconds, with an offset', () => {
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
    expect(capTime('2026-11-28T20:46:01.123Z')).toBe('2026-11-28T20:46:01-00:00');
  });

  it('maps a new incident to an Alert and a false alarm to a Cancel that references it', () => {
    const xml = incidentToCap(base);
    expect(xml).toContain('<msgType>Alert</msgType>');
    expect(xml).toContain('<headline>Possible fight at &lt;Clark &amp; Lake&gt;</headline>');
    expect(xml).toContain('<severity>Severe</severity>');
    expect(xml).toContain('<certainty>Possible</certainty>');
    expect(xml).toContain('<circle>41.885700,-87.630900 0.1</circle>');
    expect(xml).not.toContain('<references>');
    const cancel = incidentToCap({
      ...base,
      state: 'false-alarm',
      events: [...base.events, { at: base.createdAt, actor: 'op', kind: 'state', state: 'false-alarm', text: null }],
    });
    expect(cancel).toContain('<msgType>Cancel</msgType>');
    expect(cancel).toContain('<references>sentinel@transitchicago.com,sentinel-inc-1,2026-11-28T20:46:01-00:00</references>');
    expect(cancel).toContain('<certainty>Unlikely</certainty>');
  });
});
