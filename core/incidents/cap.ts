import type { Incident } from '../../contract';

/**
 * An incident as an OASIS Common Alerting Protocol 1.2 alert (the XML dispatch and
 * public-safety systems exchange). Mapping: state -> msgType/status/certainty, kind ->
 * event and severity; the place goes in <area> as a WGS-84 point circle.
 */
export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** CAP wants "2026-11-28T20:46:01-00:00": no milliseconds, an explicit offset. */
export function capTime(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, '-00:00');
}

const SEVERITY: Record<string, string> = {
  intrusion: 'Extreme',
  fight: 'Severe',
  'person-down': 'Severe',
  barrier: 'Moderate',
  crowding: 'Moderate',
  'unattended-object': 'Moderate',
  'crowd-surge': 'Moderate',
  loitering: 'Minor',
};
const EVENT: Record<string, string> = {
  fight: 'Possible fight',
  barrier: 'Bus operator protected-area breach',
  crowding: 'Platform or vehicle overcrowding',
  intrusion: 'Person on the tracks',
  loitering: 'Loitering',
  'unattended-object': 'Unattended object',
  'person-down': 'Person down',
  'crowd-surge': 'Crowd surge',
};

export function incidentToCap(inc: Incident, opts: { sender?: string } = {}): string {
  const closed = inc.state === 'resolved' || inc.state === 'false-alarm';
  const msgType = inc.state === 'false-alarm' ? 'Cancel' : inc.events.length > 1 ? 'Update' : 'Alert';
  const certainty = inc.state === 'false-alarm' ? 'Unlikely' : inc.state === 'new' ? 'Possible' : 'Likely';
  const responseType = closed ? 'AllClear' : inc.state === 'dispatched' ? 'Execute' : 'Monitor';
  const p = inc.scope.placement;
  const areaDesc = [
    p?.nearestStation ? `near ${p.nearestStation.name} station` : null,
    p?.communityArea,
    inc.scope.district ? `CPD district ${inc.scope.district}` : null,
    inc.cameraName,
  ]
    .filter(Boolean)
    .join(', ');
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">',
    `  <identifier>${escapeXml(`sentinel-${inc.id}`)}</identifier>`,
    `  <sender>${escapeXml(opts.sender ?? 'sentinel@transitchicago.com')}</sender>`,
    `  <sent>${capTime(inc.updatedAt)}</sent>`,
    '  <status>Actual</status>',
    `  <msgType>${msgType}</msgType>`,
    '  <scope>Restricted</scope>',
    '  <restriction>CTA control center and police liaisons</restriction>',
    ...(msgType !== 'Alert'
      ? [`  <references>${escapeXml(`sentinel@transitchicago.com,sentinel-${inc.id},${capTime(inc.createdAt)}`)}</references>`]
      : []),
    '  <info>',
    '    <language>en-US</language>',
    '    <category>Safety</category>',
    `    <event>${escapeXml(EVENT[inc.kind] ?? inc.kind)}</event>`,
    `    <responseType>${responseType}</responseType>`,
    `    <urgency>${closed ? 'Past' : 'Immediate'}</urgency>`,
    `    <severity>${closed ? 'Minor' : (SEVERITY[inc.kind] ?? 'Unknown')}</severity>`,
    `    <certainty>${certainty}</certainty>`,
    `    <effective>${capTime(inc.createdAt)}</effective>`,
    '    <senderName>CTA Control Center (Sentinel)</senderName>',
    `    <headline>${escapeXml(inc.title)}</headline>`,
    `    <description>${escapeXml(`Incident ${inc.state}; ${inc.alertIds.length} alert(s) from camera ${inc.cameraName}.${inc.assignee ? ` Assigned to ${inc.assignee}.` : ''}`)}</description>`,
    '    <parameter>',
    '      <valueName>SentinelState</valueName>',
    `      <value>${inc.state}</value>`,
    '    </parameter>',
    ...(inc.vehicleId
      ? [
          '    <parameter>',
          '      <valueName>CTAVehicle</valueName>',
          `      <value>${escapeXml(inc.vehicleId)}</value>`,
          '    </parameter>',
        ]
      : []),
    '    <area>',
    `      <areaDesc>${escapeXml(areaDesc || 'Chicago Transit Authority')}</areaDesc>`,
    ...(p ? [`      <circle>${p.lat.toFixed(6)},${p.lon.toFixed(6)} 0.1</circle>`] : []),
    ...(inc.scope.district
      ? [
          '      <geocode>',
          '        <valueName>CPDDistrict</valueName>',
          `        <value>${escapeXml(inc.scope.district)}</value>`,
          '      </geocode>',
        ]
      : []),
    '    </area>',
    '  </info>',
    '</alert>',
    '',
  ];
  return lines.join('\n');
}
