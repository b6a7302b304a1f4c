import { useCallback, useEffect, useId, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import type { Camera } from '../../../contract';
import { isMaskKind, ZONE_RULE_OPTIONS, ZoneKind, type Point, type ZoneRules } from '../../../contract/zones';
import { ApiError, call } from '../client/api';
import {
  clampPoint,
  labelAnchor,
  spreadLabels,
  movePoint,
  nextZoneId,
  removePoint,
  splitEdge,
  zoneIndexOfField,
  zoneProblems,
  type DraftZone,
} from './zoneEdit';
import { useLiveSnapshot } from '../cameras/useLiveSnapshot';

const KIND_LABEL: Record<ZoneKind, string> = {
  crowding: 'Crowding (capacity)',
  operator: 'Operator protected area',
  watch: 'Watch (fights)',
  trackbed: 'Track bed (intrusion)',
  loitering: 'Loitering',
  unattended: 'Unattended objects',
  'person-down': 'Person down',
  surge: 'Crowd surge',
  privacy: 'Privacy mask (hidden)',
  'motion-mask': 'Motion mask (ignored)',
};
const KIND_COLOR: Record<ZoneKind, string> = {
  crowding: '#f5a524',
  operator: '#e5484d',
  watch: '#00a1de',
  trackbed: '#ff2d55',
  loitering: '#a78bfa',
  unattended: '#facc15',
  'person-down': '#fb7185',
  surge: '#34d399',
  privacy: '#8a8f98',
  'motion-mask': '#64748b',
};
/** Pixels within which a click on the first point closes the polygon being drawn. */
const CLOSE_PX = 12;

/**
 * The camera's newest frame, refreshed every 2 s while the editor is open (loaded off-screen
 * and swapped in, so the picture never flashes empty). Reports the frame's size for the
 * stage's aspect ratio.
 */
function useSnapshot(camera: Camera): { src: string | null; size: [number, number] | null; failed: boolean } {
  return useLiveSnapshot(camera, 2000);
}

/** Pixel size of an element, following resizes. */
function useElementSize<T extends Element>(): [React.RefObject<T | null>, { w: number; h: number }] {
  const ref = useRef<T | null>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(([e]) => e && setSize({ w: e.contentRect.width, h: e.contentRect.height }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, size];
}

/** A zone without a polygon covers the whole frame. */
const WHOLE_FRAME: Point[] = [
  [0, 0],
  [1, 0],
  [1, 1],
  [0, 1],
];

function zoneLabel(z: DraftZone): string {
  return `${z.name ?? z.id}${z.kind === 'crowding' && z.capacity ? ` · cap ${z.capacity}` : ''}`;
}

/**
 * Draw and edit a camera's zones over its live picture. Click "Draw zone", click the corners,
 * and click the first corner (or press Enter) to close the polygon. Drag a corner to move it,
 * click an edge's midpoint to add a corner, Shift+click a corner to remove it. Problems are
 * checked with the contract's schema as you edit and shown beside the zone; the core checks
 * again on save and its message lands next to the zone it names.
 */
export function ZoneEditor({ camera }: { camera: Camera }) {
  const id = useId();
  const [zones, setZones] = useState<DraftZone[]>([]);
  const [savedJson, setSavedJson] = useState('[]');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [selected, setSelected] = useState<number | null>(null);
  const [drawing, setDrawing] = useState<Point[] | null>(null);
  /** What the polygon being drawn becomes: a new zone (null) or an excluded area of zone N. */
  const [drawFor, setDrawFor] = useState<number | null>(null);
  const [hover, setHover] = useState<Point | null>(null);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<{ index: number | null; message: string } | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const drag = useRef<{ zone: number; point: number } | null>(null);
  const snap = useSnapshot(camera);
  const [stageRef, stage] = useElementSize<HTMLDivElement>();

  useEffect(() => {
    let live = true;
    setLoaded(false);
    call('cameraZones', { params: { id: camera.id } })
      .then((r) => {
        if (!live) return;
        setZones(r.zones);
        setSavedJson(JSON.stringify(r.zones));
        setLoaded(true);
      })
      .catch((err: Error) => live && setLoadError(err.message));
    return () => {
      live = false;
    };
  }, [camera.id]);

  const problems = zoneProblems(zones);
  const dirty = JSON.stringify(zones) !== savedJson;
  const toPx = (p: Point): [number, number] => [p[0] * stage.w, p[1] * stage.h];
  // Labels sit above each zone's top corner, a line lower where another zone's label is already
  // there; about 8 px a character at the labels' 13 px bold font is enough to tell overlaps.
  const labelAt = spreadLabels(
    zones.map((z) => {
      const [x, y] = toPx(labelAnchor(z.polygon ?? WHOLE_FRAME));
      return [x, Math.max(14, y - 6)] as const;
    }),
    zones.map((z) => zoneLabel(z).length * 8 + 8),
  );
  const fromEvent = (e: { clientX: number; clientY: number }): Point => {
    const r = stageRef.current?.getBoundingClientRect();
    if (!r || !r.width || !r.height) return [0, 0];
    return clampPoint((e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
  };

  const update = (i: number, patch: Partial<DraftZone>): void => {
    setServerError(null);
    setStatus(null);
    setZones((zs) =>
      zs.map((z, j) => {
        if (j !== i) return z;
        const next = { ...z, ...patch } as DraftZone & Record<string, unknown>;
        // Optional keys are left out rather than sent as undefined (the schema is strict).
        for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
        return next;
      }),
    );
  };

  const finishDrawing = useCallback(() => {
    if (!drawing || drawing.length < 3) return;
    if (drawFor !== null && zones[drawFor]) {
      // An excluded area (the operator's seat): people whose feet are in it do not count.
      const target = zones[drawFor];
      setZones(zones.map((z, j) => (j === drawFor ? { ...z, exclude: [...(target.exclude ?? []), drawing] } : z)));
      setSelected(drawFor);
      setDrawFor(null);
      setDrawing(null);
      setHover(null);
      setStatus(null);
      return;
    }
    // New zones start as crowding zones: the editor then asks for the capacity they need.
    setZones([...zones, { id: nextZoneId(zones), name: `Zone ${zones.length + 1}`, kind: 'crowding', polygon: drawing }]);
    setSelected(zones.length);
    setDrawing(null);
    setHover(null);
    setStatus(null);
  }, [drawing, drawFor, zones]);

  useEffect(() => {
    if (!drawing) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Enter') {
        e.preventDefault();
        finishDrawing();
      } else if (e.key === 'Escape') {
        setDrawing(null);
        setDrawFor(null);
      } else if (e.key === 'Backspace') setDrawing((d) => (d ? d.slice(0, -1) : d));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [drawing, finishDrawing]);

  const onStageClick = (e: React.MouseEvent): void => {
    if (!drawing) return;
    const p = fromEvent(e);
    const first = drawing[0];
    if (first && drawing.length >= 3) {
      const [fx, fy] = toPx(first);
      const [px, py] = toPx(p);
      if (Math.hypot(fx - px, fy - py) <= CLOSE_PX) return finishDrawing();
    }
    setDrawing([...drawing, p]);
  };

  const onVertexDown = (e: ReactPointerEvent, zone: number, point: number): void => {
    e.stopPropagation();
    if (drawing) return;
    const poly = zones[zone]?.polygon;
    if (!poly) return;
    if (e.shiftKey) {
      update(zone, { polygon: removePoint(poly, point) });
      return;
    }
    setSelected(zone);
    drag.current = { zone, point };
    (e.target as Element).setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: ReactPointerEvent): void => {
    if (drawing) setHover(fromEvent(e));
    const d = drag.current;
    if (!d) return;
    const poly = zones[d.zone]?.polygon;
    if (poly) update(d.zone, { polygon: movePoint(poly, d.point, fromEvent(e)) });
  };
  const onPointerUp = (): void => {
    drag.current = null;
  };

  const save = async (): Promise<void> => {
    setSaving(true);
    setServerError(null);
    setStatus(null);
    try {
      const r = await call('cameraZonesPut', { params: { id: camera.id }, body: { zones } });
      setZones(r.zones);
      setSavedJson(JSON.stringify(r.zones));
      setStatus(`Saved ${r.zones.length} zone${r.zones.length === 1 ? '' : 's'}`);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(String(err), 0, 'network');
      setServerError({ index: zoneIndexOfField(e.field), message: e.message });
    } finally {
      setSaving(false);
    }
  };

  const remove = (i: number): void => {
    setZones((zs) => zs.filter((_, j) => j !== i));
    setSelected(null);
    setServerError(null);
    setStatus(null);
  };

  const aspect = snap.size ? `${snap.size[0]} / ${snap.size[1]}` : '4 / 3';
  const messageFor = (i: number): string | undefined => problems.get(i) ?? (serverError?.index === i ? serverError.message : undefined);

  if (loadError) {
    return (
      <div className="tech-error" role="alert">
        Cannot load the zones of {camera.name}: {loadError}
      </div>
    );
  }

  return (
    <div className="zone-editor" data-testid="zone-editor">
      <div className="zone-stage-wrap">
        <div className="zone-toolbar">
          {drawing ? (
            <>
              <span>
                {drawFor !== null ? `Excluded area of ${zones[drawFor]?.name ?? zones[drawFor]?.id ?? 'the zone'}: ` : ''}
                Click the corners; click the first corner or press <kbd>Enter</kbd> to close ({drawing.length} point
                {drawing.length === 1 ? '' : 's'}). <kbd>Esc</kbd> cancels.
              </span>
              <button type="button" className="ghost-button" disabled={drawing.length < 3} onClick={finishDrawing}>
                Finish zone
              </button>
            </>
          ) : (
            <>
              <button
                type="button"
                className="tech-primary"
                disabled={!loaded}
                onClick={() => (setDrawing([]), setDrawFor(null), setSelected(null))}
              >
                Draw zone
              </button>
              <span className="muted">Drag a corner to move it · click a midpoint to add a corner · Shift+click a corner to remove it</span>
            </>
          )}
        </div>
        <div
          ref={stageRef}
          className={`zone-stage ${drawing ? 'drawing' : ''}`}
          style={{ aspectRatio: aspect }}
          data-testid="zone-stage"
          onClick={onStageClick}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
        >
          {snap.src ? (
            <img src={snap.src} alt={`Live picture of ${camera.name}`} draggable={false} />
          ) : (
            <div className="zone-nopicture">
              {snap.failed ? `No live picture (camera is ${camera.health.state}); zones can still be drawn` : 'Loading the live picture…'}
            </div>
          )}
          <svg width={stage.w} height={stage.h} className="zone-svg" aria-label="Zones">
            {zones.map((z, i) => {
              const [lx, ly] = labelAt[i] ?? [0, 0];
              const poly = z.polygon ?? WHOLE_FRAME;
              const color = KIND_COLOR[z.kind];
              const bad = messageFor(i) !== undefined;
              return (
                <g key={`${z.id}-${i}`} className={`zone-shape ${selected === i ? 'selected' : ''}`} data-zone-id={z.id}>
                  <polygon
                    points={poly.map((p) => toPx(p).join(',')).join(' ')}
                    fill={color}
                    fillOpacity={z.kind === 'privacy' ? 0.75 : selected === i ? 0.28 : 0.16}
                    stroke={bad ? '#e5484d' : color}
                    strokeWidth={selected === i ? 3 : 2}
                    strokeDasharray={bad ? '6 4' : undefined}
                    onClick={(e) => {
                      if (drawing) return;
                      e.stopPropagation();
                      setSelected(i);
                    }}
                  />
                  {(z.exclude ?? []).map((ex, k) => (
                    <polygon
                      key={`ex-${k}`}
                      className="zone-exclude"
                      data-testid="zone-exclude-shape"
                      points={ex.map((p) => toPx(p).join(',')).join(' ')}
                      fill="#000"
                      fillOpacity={0.35}
                      stroke={color}
                      strokeWidth={1.5}
                      strokeDasharray="3 3"
                    />
                  ))}
                  <text x={lx + 4} y={ly} className="zone-label" fill={color}>
                    {zoneLabel(z)}
                  </text>
                  {bad && (
                    <text x={lx + 4} y={ly + 18} className="zone-label zone-label-bad">
                      ⚠ {messageFor(i)}
                    </text>
                  )}
                  {selected === i &&
                    z.polygon &&
                    z.polygon.map((p, k) => {
                      const [x, y] = toPx(p);
                      const q = z.polygon![(k + 1) % z.polygon!.length]!;
                      const [mx, my] = toPx([(p[0] + q[0]) / 2, (p[1] + q[1]) / 2]);
                      return (
                        <g key={k}>
                          <circle
                            cx={mx}
                            cy={my}
                            r={4}
                            className="zone-mid"
                            onClick={(e) => {
                              e.stopPropagation();
                              update(i, { polygon: splitEdge(z.polygon!, k) });
                            }}
                          />
                          <circle cx={x} cy={y} r={7} className="zone-vertex" onPointerDown={(e) => onVertexDown(e, i, k)} />
                        </g>
                      );
                    })}
                </g>
              );
            })}
            {drawing && drawing.length > 0 && (
              <g className="zone-drawing">
                <polyline
                  points={[...drawing, ...(hover ? [hover] : [])].map((p) => toPx(p).join(',')).join(' ')}
                  fill="none"
                  stroke="#4cc2ff"
                  strokeWidth={2}
                  strokeDasharray="4 3"
                />
                {drawing.map((p, k) => {
                  const [x, y] = toPx(p);
                  return <circle key={k} cx={x} cy={y} r={k === 0 ? 8 : 5} className={k === 0 ? 'zone-first' : 'zone-vertex'} />;
                })}
              </g>
            )}
          </svg>
        </div>
      </div>
      <aside className="zone-list" aria-label="Zones of this camera">
        <header className="zone-list-head">
          <strong>Zones</strong>
          <span className="muted">{loaded ? `${zones.length} zone${zones.length === 1 ? '' : 's'}` : 'loading…'}</span>
          <span className="spacer" />
          {dirty && <span className="tech-warn">Unsaved changes</span>}
        </header>
        {loaded && zones.length === 0 && !drawing && (
          <p className="muted">No zones yet. Without zones, analytics counts the whole frame only.</p>
        )}
        {zones.map((z, i) => (
          <div
            key={`${z.id}-${i}`}
            className={`zone-item ${selected === i ? 'selected' : ''}`}
            data-testid="zone-item"
            onFocus={() => setSelected(i)}
          >
            <div className="tech-row">
              <label htmlFor={`${id}-${i}-name`}>Name</label>
              <input
                id={`${id}-${i}-name`}
                value={z.name ?? ''}
                maxLength={100}
                onChange={(e) => update(i, { name: e.target.value || undefined })}
              />
            </div>
            <div className="tech-row">
              <label htmlFor={`${id}-${i}-kind`}>Kind</label>
              <select id={`${id}-${i}-kind`} value={z.kind} onChange={(e) => update(i, { kind: e.target.value as ZoneKind })}>
                {ZoneKind.options.map((k) => (
                  <option key={k} value={k}>
                    {KIND_LABEL[k]}
                  </option>
                ))}
              </select>
            </div>
            {/* A mask counts nobody: no capacity to give it. */}
            {!isMaskKind(z.kind) && (
              <div className="tech-row">
                <label htmlFor={`${id}-${i}-cap`}>Capacity</label>
                <input
                  id={`${id}-${i}-cap`}
                  type="number"
                  min={1}
                  step={1}
                  value={z.capacity ?? ''}
                  placeholder={z.kind === 'crowding' ? 'people (required)' : 'optional'}
                  onChange={(e) => update(i, { capacity: e.target.value === '' ? undefined : Number(e.target.value) })}
                />
              </div>
            )}
            {ZONE_RULE_OPTIONS[z.kind].length > 0 && (
              <fieldset className="zone-rules" aria-label={`Rule options of ${z.name ?? z.id}`}>
                <legend className="muted">Rule options (empty = default)</legend>
                {ZONE_RULE_OPTIONS[z.kind].map((o) => {
                  const fid = `${id}-${i}-rule-${o.key}`;
                  const value = z.rules?.[o.key];
                  const setRule = (v: number | boolean | undefined): void => {
                    const rules: ZoneRules & Record<string, unknown> = { ...z.rules, [o.key]: v };
                    for (const k of Object.keys(rules)) if (rules[k] === undefined) delete rules[k];
                    update(i, { rules: Object.keys(rules).length ? rules : undefined });
                  };
                  return typeof o.default === 'boolean' ? (
                    <div className="tech-row" key={o.key}>
                      <label htmlFor={fid}>{o.label}</label>
                      <input
                        id={fid}
                        type="checkbox"
                        data-testid={`zone-rule-${o.key}`}
                        checked={value === true}
                        onChange={(e) => setRule(e.target.checked ? true : undefined)}
                      />
                    </div>
                  ) : (
                    <div className="tech-row" key={o.key}>
                      <label htmlFor={fid}>{o.label}</label>
                      <input
                        id={fid}
                        type="number"
                        min={0}
                        step={o.step ?? 1}
                        data-testid={`zone-rule-${o.key}`}
                        value={typeof value === 'number' ? value : ''}
                        placeholder={`default ${String(o.default)}`}
                        onChange={(e) => setRule(e.target.value === '' ? undefined : Number(e.target.value))}
                      />
                    </div>
                  );
                })}
              </fieldset>
            )}
            <div className="zone-excludes">
              <span className="muted">
                {(z.exclude ?? []).length === 0
                  ? 'No excluded areas'
                  : `${(z.exclude ?? []).length} excluded area${(z.exclude ?? []).length === 1 ? '' : 's'} (not counted)`}
              </span>
              {(z.exclude ?? []).map((_, k) => (
                <button
                  key={k}
                  type="button"
                  className="ghost-button"
                  aria-label={`Remove excluded area ${k + 1} of ${z.name ?? z.id}`}
                  onClick={() => {
                    const rest = (z.exclude ?? []).filter((__, j) => j !== k);
                    update(i, { exclude: rest.length ? rest : undefined });
                  }}
                >
                  Remove area {k + 1}
                </button>
              ))}
              <button
                type="button"
                className="ghost-button"
                data-testid="zone-draw-exclude"
                disabled={drawing !== null || (z.exclude ?? []).length >= 8}
                onClick={() => (setSelected(i), setDrawFor(i), setDrawing([]))}
              >
                Draw excluded area
              </button>
            </div>
            <div className="zone-item-foot">
              <code>{z.id}</code>
              <span className="muted">{z.polygon ? `${z.polygon.length} corners` : 'whole frame'}</span>
              <span className="spacer" />
              <button type="button" className="ghost-button" onClick={() => remove(i)} aria-label={`Delete zone ${z.name ?? z.id}`}>
                Delete
              </button>
            </div>
            {messageFor(i) && (
              <div className="tech-error" data-testid="zone-problem">
                {messageFor(i)}
              </div>
            )}
          </div>
        ))}
        {serverError && serverError.index === null && (
          <div className="tech-error" role="alert">
            {serverError.message}
          </div>
        )}
        {status && (
          <div className="tech-ok" role="status" data-testid="zones-saved">
            {status}
          </div>
        )}
        <div className="tech-actions">
          <button
            type="button"
            className="tech-primary"
            disabled={!loaded || saving || !dirty || problems.size > 0}
            onClick={() => void save()}
          >
            {saving ? 'Saving…' : 'Save zones'}
          </button>
          <button
            type="button"
            className="ghost-button"
            disabled={!dirty || saving}
            onClick={() => {
              setZones(JSON.parse(savedJson) as DraftZone[]);
              setServerError(null);
              setSelected(null);
            }}
          >
            Revert
          </button>
        </div>
      </aside>
    </div>
  );
}
