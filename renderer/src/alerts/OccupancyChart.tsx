import type { OccupancySeries } from '../../../contract';

/**
 * People in a zone over time against its capacity, as plain SVG: a step line of the counts,
 * the capacity as a dashed red line, and the 80 % clear level as a dotted one.
 */
export function OccupancyChart({ series, width = 260, height = 70 }: { series: OccupancySeries; width?: number; height?: number }) {
  const pts = series.points;
  if (pts.length < 2) return <div className="muted alert-chart-empty">Not enough occupancy samples yet</div>;
  const t0 = Date.parse(pts[0]!.t);
  const t1 = Date.parse(pts.at(-1)!.t);
  const cap = series.capacity;
  const maxY = Math.max(1, cap ?? 0, ...pts.map((p) => p.count)) * 1.15;
  const x = (t: string): number => ((Date.parse(t) - t0) / Math.max(1, t1 - t0)) * (width - 4) + 2;
  const y = (v: number): number => height - 2 - (v / maxY) * (height - 14);
  let d = `M${x(pts[0]!.t).toFixed(1)},${y(pts[0]!.count).toFixed(1)}`;
  for (let i = 1; i < pts.length; i++) d += `H${x(pts[i]!.t).toFixed(1)}V${y(pts[i]!.count).toFixed(1)}`;
  const peak = Math.max(...pts.map((p) => p.count));
  return (
    <svg
      className="alert-chart"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Occupancy of ${series.zoneId}: now ${pts.at(-1)!.count}, peak ${peak}${cap ? `, capacity ${cap}` : ''}`}
    >
      {cap !== null && <line x1={0} x2={width} y1={y(cap)} y2={y(cap)} className="alert-chart-cap" />}
      {cap !== null && <line x1={0} x2={width} y1={y(cap * 0.8)} y2={y(cap * 0.8)} className="alert-chart-clear" />}
      {cap !== null && (
        <text x={width - 2} y={y(cap) - 2} textAnchor="end" className="alert-chart-label">
          capacity {cap}
        </text>
      )}
      <path d={d} className="alert-chart-line" />
    </svg>
  );
}
