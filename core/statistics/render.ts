import * as Plot from '@observablehq/plot';
import { JSDOM } from 'jsdom';
import { RAIL_LINE_NAMES, type Cell, type MonthlyStatistics } from '../../contract';

const KIND_NAMES: Record<string, string> = {
  crowding: 'Crowding',
  barrier: 'Operator-area breach',
  fight: 'Possible fight',
  'rider-report': 'Rider text report',
};
const lineName = (k: string): string => (k === 'bus' ? 'Bus routes' : ((RAIL_LINE_NAMES as Record<string, string>)[k] ?? k));

/** RFC 4180 quoting. Hand-written: the report has four columns and no kept CSV writer is installed. */
function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per figure: section, key, value, unit. Suppressed counts read "<5". */
export function toCsv(s: MonthlyStatistics): string {
  const rows: Array<[string, string, string | number | null, string]> = [
    ['month', 'month', s.month, s.timeZone],
    ['incidents', 'total', s.incidents.total, 'count'],
  ];
  for (const [k, v] of Object.entries(s.incidents.byKind)) rows.push(['incidents_by_kind', k, v, 'count']);
  for (const [k, v] of Object.entries(s.incidents.byLine)) rows.push(['incidents_by_line', k, v, 'count']);
  for (const [k, v] of Object.entries(s.incidents.byDistrict)) rows.push(['incidents_by_district', k, v, 'count']);
  s.incidents.byHour.forEach((v, h) => rows.push(['incidents_by_hour', String(h).padStart(2, '0'), v, 'count']));
  rows.push(['rider_reports', 'total', s.riderReports, 'count'], ['escalations', 'total', s.escalations, 'count']);
  for (const [k, v] of Object.entries(s.response)) {
    rows.push(
      [`time_to_${k}`, 'incidents', v.n, 'count'],
      [`time_to_${k}`, 'median', v.medianMin, 'minutes'],
      [`time_to_${k}`, 'p90', v.p90Min, 'minutes'],
    );
  }
  for (const [k, v] of Object.entries(s.precision))
    rows.push(['rule_precision', `${k}_reviewed`, v.reviewed, 'count'], ['rule_precision', k, v.precision, 'ratio']);
  for (const [k, v] of Object.entries(s.uptime))
    rows.push(['camera_uptime', `${k}_cameras`, v.cameras, 'count'], ['camera_uptime', k, v.uptime, 'ratio']);
  return ['section,key,value,unit', ...rows.map((r) => r.map(csvField).join(','))].join('\r\n') + '\r\n';
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const show = (c: Cell | number | null, unit = ''): string => (c === null ? '—' : `${c}${typeof c === 'number' ? unit : ''}`);

/**
 * A bar chart as inline SVG, drawn by Observable Plot into jsdom's document (no browser, no
 * network: the page opens offline). Suppressed cells are left out of the bars — a bar's
 * length would reveal the small count — and listed under the chart as "<5".
 */
function barChart(document: Document, data: Array<{ key: string; value: Cell }>, label: string, horizontal = true): string {
  const shown = data.filter((d): d is { key: string; value: number } => typeof d.value === 'number');
  const hidden = data.filter((d) => d.value === '<5').map((d) => d.key);
  const note = hidden.length ? `<p class="note">Under 5 (not drawn): ${esc(hidden.join(', '))}</p>` : '';
  if (shown.length === 0) return `<p class="note">No figure of 5 or more to draw.</p>${note}`;
  const svg = horizontal
    ? Plot.plot({
        document,
        marginLeft: 150,
        height: 30 + shown.length * 24,
        x: { label, grid: true },
        y: { label: null },
        marks: [Plot.barX(shown, { x: 'value', y: 'key', fill: '#00a1de', sort: { y: '-x' } }), Plot.ruleX([0])],
      })
    : Plot.plot({
        document,
        height: 220,
        x: { label: 'hour of day (Chicago)', type: 'band' },
        y: { label, grid: true },
        marks: [Plot.barY(shown, { x: 'key', y: 'value', fill: '#00a1de' }), Plot.ruleY([0])],
      });
  return (svg as unknown as { outerHTML: string }).outerHTML + note;
}

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** The month as one self-contained HTML page (inline SVG and CSS, no script, no external file). */
export function toHtml(s: MonthlyStatistics): string {
  const { document } = new JSDOM('').window;
  const kinds = Object.entries(s.incidents.byKind).map(([k, v]) => ({ key: KIND_NAMES[k] ?? k, value: v }));
  const lines = Object.entries(s.incidents.byLine).map(([k, v]) => ({ key: lineName(k), value: v }));
  const districts = Object.entries(s.incidents.byDistrict).map(([k, v]) => ({
    key: k === 'unknown' ? 'outside a district' : `District ${k}`,
    value: v,
  }));
  const hours = s.incidents.byHour.map((v, h) => ({ key: String(h).padStart(2, '0'), value: v }));
  const title = `CTA Sentinel — incidents and response, ${s.month}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:820px;margin:2rem auto;padding:0 1rem;color:#1d1d1d}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}.note{color:#555;font-size:.9rem}</style></head>
<body><h1>${esc(title)}</h1>
<p class="note">Times are Chicago local time (${esc(s.timeZone)}). Any count under 5 is shown as “&lt;5” and no free text is published, so no one can be identified. Generated ${esc(s.generatedAt)}.</p>
<h2>Incidents</h2><p>Total: <strong>${show(s.incidents.total)}</strong>. Rider text reports: <strong>${show(s.riderReports)}</strong>. Escalations (alerts not acknowledged in time): <strong>${show(s.escalations)}</strong>.</p>
<h3>By kind</h3>${barChart(document, kinds, 'incidents')}
<h3>By line</h3>${barChart(document, lines, 'incidents')}
<h3>By police district</h3>${barChart(document, districts, 'incidents')}
<h3>By hour of day</h3>${barChart(document, hours, 'incidents', false)}
<h2>Response times</h2>${table(
    ['', 'incidents', 'median (min)', '90th percentile (min)'],
    Object.entries(s.response).map(([k, v]) => [`time to ${k}`, show(v.n), show(v.medianMin), show(v.p90Min)]),
  )}
<p class="note">Median and 90th percentile are shown only when at least 5 incidents reached that step.</p>
<h2>Alert rules: precision from reviewers' verdicts</h2>${table(
    ['rule', 'reviewed', 'precision'],
    Object.entries(s.precision).map(([k, v]) => [
      KIND_NAMES[k] ?? k,
      show(v.reviewed),
      v.precision === null ? '—' : `${Math.round(v.precision * 100)} %`,
    ]),
  )}
<p class="note">Precision is the share of reviewed alerts a reviewer confirmed; shown when at least 5 were reviewed.</p>
<h2>Camera uptime by group</h2>${table(
    ['group', 'cameras', 'uptime'],
    Object.entries(s.uptime).map(([k, v]) => [
      k.replace('_', ' '),
      show(v.cameras),
      v.uptime === null ? '—' : `${(v.uptime * 100).toFixed(1)} %`,
    ]),
  )}
<p class="note">${esc(s.uptimeMethod)}</p>
</body></html>
`;
}
