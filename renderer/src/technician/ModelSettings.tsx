import { useEffect, useState } from 'react';
import { BUILTIN_FIGHT_MODEL, nodeFightLine, type AnalyticsModels, type Camera, type CameraModel, type ModelInfo } from '../../../contract';
import { ApiError, call } from '../client/api';
import { reidText, viewerSessionText } from './healthText';

/** What each task is for, in a technician's words (the raw task name stays in brackets). */
const TASK_LABEL: Record<string, string> = {
  detect: 'person detector (detect)',
  'classify-clip': 'fight classifier (classify-clip)',
  embed: 're-identification (embed)',
};

/** "yolox-nano — YOLOX-nano 416 ..." with why it cannot run, for a model's option. */
function optionLabel(m: ModelInfo): string {
  const what = m.description ? ` — ${m.description}` : '';
  return m.state === 'ready' ? `${m.name}${what}` : `${m.name} (unavailable)`;
}

function useModels(): { models: AnalyticsModels | null; error: string | null; set(m: AnalyticsModels): void; reload(): void } {
  const [models, setModels] = useState<AnalyticsModels | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    call('analyticsModels', { signal: ac.signal })
      .then(setModels)
      .catch((err: unknown) => {
        if (!ac.signal.aborted) setError(err instanceof Error ? err.message : String(err));
      });
    return () => ac.abort();
  }, [generation]);
  // After a refusal: the core re-checked the file, so the list may now say why a model cannot run.
  return { models, error, set: setModels, reload: () => setGeneration((g) => g + 1) };
}

/** One model slot: a choice among the models of its task, applied (proven, then swapped in) by the core. */
function SlotForm({
  label,
  testId,
  current,
  running,
  problem,
  choices,
  onApply,
  onRefused,
}: {
  label: string;
  testId: string;
  current: string;
  running: string | null;
  problem: string | null;
  choices: { value: string; label: string; disabled: boolean; title?: string }[];
  onApply(model: string): Promise<void>;
  onRefused?(): void;
}) {
  const [value, setValue] = useState(current);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  useEffect(() => setValue(current), [current]);
  // A refused model turns unavailable once the core has re-checked it: no point offering Apply again.
  const chosen = choices.find((c) => c.value === value);
  const unusable = chosen?.disabled === true;
  const apply = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await onApply(value);
      setDone(`${value || 'The default detector'} loaded and tested; it takes over from the next frame.`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      onRefused?.();
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="tech-row" data-testid={testId}>
      <label htmlFor={`${testId}-select`}>{label}</label>
      <div className="tech-field">
        <select
          id={`${testId}-select`}
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setError(null);
            setDone(null);
          }}
          disabled={busy}
        >
          {choices.map((c) => (
            <option key={c.value} value={c.value} disabled={c.disabled} title={c.title}>
              {c.label}
            </option>
          ))}
        </select>
        <div className="tech-hint" data-testid={`${testId}-running`}>
          Running now: {running ?? 'none'}
        </div>
        {problem && <div className="tech-warn">{problem}</div>}
        <div>
          <button type="button" className="tech-primary" disabled={busy || value === current || unusable} onClick={() => void apply()}>
            {busy ? 'Loading and testing the model…' : 'Apply'}
          </button>
        </div>
        {error && (
          <div className="tech-error" role="alert" data-testid={`${testId}-error`}>
            Refused: {error}. The running model keeps working.
          </div>
        )}
        {done && (
          <div className="tech-ok" data-testid={`${testId}-done`}>
            {done}
          </div>
        )}
      </div>
    </div>
  );
}

/**
 * The box-wide models: the default person detector (every camera without its own choice) and
 * the fight classifier. A change loads the new model in new workers and runs a test inference
 * before it takes over; cameras keep being analysed throughout.
 */
export function ModelsPane({ cameras = [] }: { cameras?: readonly Camera[] }) {
  const { models, error, set, reload } = useModels();
  if (error) return <p className="tech-error">Cannot load the models: {error}</p>;
  if (!models) return <p className="muted tech-pad">Loading models…</p>;
  const ofTask = (task: string) => models.models.filter((m) => m.task === task);
  const choice = (m: ModelInfo) => ({ value: m.name, label: optionLabel(m), disabled: m.state !== 'ready', title: m.message ?? undefined });
  return (
    <div className="tech-form" data-testid="models-pane">
      <p className="tech-hint">
        A new model is loaded and tested before it takes over; no camera stops, and a model that fails is refused with the reason. A camera
        can have its own detector (the light person detector for a quiet camera, say): pick the camera, then its Analytics tab.
      </p>
      <SlotForm
        label="Person detector (default)"
        testId="detector-slot"
        current={models.detector.model}
        running={models.detector.running}
        problem={models.detector.problem}
        choices={ofTask('detect').map(choice)}
        onApply={async (model) => set(await call('analyticsDetectorPut', { body: { model } }))}
        onRefused={reload}
      />
      <SlotForm
        label="Fight classifier"
        testId="fight-slot"
        current={models.fight.model}
        running={models.fight.running}
        problem={models.fight.problem}
        choices={[
          { value: BUILTIN_FIGHT_MODEL, label: 'Built-in trained clip classifier', disabled: false },
          ...ofTask('classify-clip').map(choice),
        ]}
        onApply={async (model) => set(await call('analyticsFightPut', { body: { model } }))}
        onRefused={reload}
      />
      {models.fight.nodes && models.fight.nodes.length > 0 && (
        <ul className="tech-model-list" aria-label="Fight classifier on the analytics nodes" data-testid="fight-nodes">
          {models.fight.nodes.map((n) => (
            <li key={n.nodeId} className={n.running === models.fight.model ? '' : 'tech-warn'}>
              <strong>{n.nodeName}</strong> {nodeFightLine(n, models.fight.model)}
            </li>
          ))}
        </ul>
      )}
      <h3 className="tech-label">Models on this core</h3>
      <ul className="tech-model-list" aria-label="Models">
        {models.models.map((m) => {
          // Which cameras this model analyses now (from their health), so a camera's own choice is visible here too.
          const users = cameras.filter((c) => c.health.analysis?.model === m.name).map((c) => c.name);
          return (
            <li key={m.name} className={m.state === 'ready' ? '' : 'tech-warn'} title={m.message ?? undefined}>
              <strong>{m.name}</strong> · {TASK_LABEL[m.task] ?? m.task} · {m.state === 'ready' ? 'verified' : m.message}
              {users.length > 0 && (
                <span className="muted" data-testid="model-users">
                  {' '}
                  · analysing {users.length === 1 ? '1 camera' : `${users.length} cameras`}: {users.slice(0, 5).join(', ')}
                  {users.length > 5 ? ', …' : ''}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** A camera's own detector (the light one for a quiet camera, say), in the camera's detail. */
export function CameraModelTab({ camera }: { camera: Camera }) {
  const { models, error, reload } = useModels();
  const [mine, setMine] = useState<CameraModel | null>(null);
  useEffect(() => {
    const ac = new AbortController();
    call('cameraModel', { params: { id: camera.id }, signal: ac.signal })
      .then(setMine)
      .catch(() => undefined);
    return () => ac.abort();
  }, [camera.id]);
  if (error) return <p className="tech-error">Cannot load the models: {error}</p>;
  if (!models || !mine) return <p className="muted tech-pad">Loading…</p>;
  const DEFAULT = '';
  const a = camera.health.analysis;
  const reid = a?.reid ? reidText(a.reid) : null;
  const session = viewerSessionText(camera.health.live);
  return (
    <div className="tech-form" data-testid="camera-model">
      <SlotForm
        label="Person detector"
        testId="camera-model-slot"
        current={mine.model ?? DEFAULT}
        running={a?.model ?? mine.running}
        problem={null}
        choices={[
          { value: DEFAULT, label: `Default (${models.detector.model})`, disabled: false },
          ...models.models
            .filter((m) => m.task === 'detect')
            .map((m) => ({ value: m.name, label: optionLabel(m), disabled: m.state !== 'ready', title: m.message ?? undefined })),
        ]}
        onApply={async (model) => setMine(await call('cameraModelPut', { params: { id: camera.id }, body: { model: model || null } }))}
        onRefused={reload}
      />
      <div className="tech-row">
        <span className="tech-label">Analysis</span>
        <div className="tech-field" data-testid="camera-model-analysis">
          {a ? (
            <span>
              {a.model} · analysed {a.fps.toFixed(1)} fps · detector {a.detectorFps.toFixed(1)}/s · {a.frames} frames, {a.detectorRuns}{' '}
              detector runs
            </span>
          ) : (
            <span className="muted">Not analysed (analytics off, no zone, or its model cannot run).</span>
          )}
        </div>
      </div>
      {reid && (
        <div className="tech-row">
          <span className="tech-label">Re-identification</span>
          <div className={`tech-field ${reid.problem ? 'tech-error' : ''}`} data-testid="camera-model-reid" title={reid.title}>
            {reid.title}
          </div>
        </div>
      )}
      {session && (
        <div className="tech-row">
          <span className="tech-label">Core's live session</span>
          <div className={`tech-field ${session.problem ? 'tech-error' : ''}`} data-testid="camera-viewer-session" title={session.title}>
            {session.text}
          </div>
        </div>
      )}
    </div>
  );
}
