import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, call } from '../client/api';
import { CodeField } from './CodeField';

type Step =
  | { kind: 'confirm' }
  | { kind: 'starting' }
  | { kind: 'scan'; secret: string; otpauthUrl: string; qrDataUrl: string }
  | { kind: 'codes'; codes: string[] };

const errorText = (err: unknown): string => (err instanceof ApiError ? err.message : 'Something went wrong; try again.');

/** The key as people type it into an app: groups of four. */
const grouped = (secret: string): string => secret.replace(/(.{4})/g, '$1 ').trim();

/**
 * Setting up (or moving) two-step sign-in: the QR code of the `otpauth://` URI, the same key
 * to type in by hand, a current code to prove the phone has it, then the ten recovery codes,
 * shown this once. Replacing a factor that is on first asks for the password and a current
 * code (the core refuses it otherwise).
 */
export function MfaEnrolment({
  replacing,
  onDone,
  onCancel,
}: {
  /** A factor is on: the password and a current code are needed first. */
  replacing: boolean;
  onDone: () => void;
  onCancel?: () => void;
}) {
  const [step, setStep] = useState<Step>(replacing ? { kind: 'confirm' } : { kind: 'starting' });
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const started = useRef(false);

  const start = (body: { password?: string; code?: string }): void => {
    setBusy(true);
    setError(null);
    call('totpSetup', { body })
      .then((s) => {
        setCode('');
        setStep({ kind: 'scan', ...s });
      })
      .catch((err: unknown) => {
        setError(errorText(err));
        if (!replacing) setStep({ kind: 'starting' });
      })
      .finally(() => setBusy(false));
  };
  useEffect(() => {
    // A first enrolment needs nothing from the user to begin (React's strict mode mounts twice).
    if (replacing || started.current) return;
    started.current = true;
    start({});
  }, []);

  const enable = (e: FormEvent): void => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    call('totpEnable', { body: { code: code.trim() } })
      .then((r) => setStep({ kind: 'codes', codes: r.recoveryCodes }))
      .catch((err: unknown) => setError(errorText(err)))
      .finally(() => setBusy(false));
  };

  const err = error && (
    <p className="auth-error" role="alert" data-testid="mfa-error">
      {error}
    </p>
  );
  switch (step.kind) {
    case 'confirm':
      return (
        <form
          className="mfa-step"
          aria-label="Confirm it is you"
          onSubmit={(e) => {
            e.preventDefault();
            start({ password, code: code.trim() });
          }}
        >
          <p className="muted">
            To move two-step sign-in to a new phone, confirm with your password and a current code (or a recovery code).
          </p>
          <label>
            Your password
            <input
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          </label>
          <CodeField label="Current code or recovery code" value={code} onChange={setCode} orRecovery required />
          {err}
          <div className="mfa-actions">
            <button type="submit" disabled={busy}>
              Continue
            </button>
            {onCancel && (
              <button type="button" className="ghost-button" onClick={onCancel}>
                Cancel
              </button>
            )}
          </div>
        </form>
      );
    case 'starting':
      return (
        <div className="mfa-step" aria-busy={busy}>
          {err}
          {error && (
            <button type="button" onClick={() => start({})}>
              Try again
            </button>
          )}
        </div>
      );
    case 'scan':
      return (
        <form className="mfa-step" aria-label="Scan the code" onSubmit={enable}>
          <p className="muted">Scan this code with an authenticator app (Google Authenticator, Microsoft Authenticator, FreeOTP…).</p>
          <img className="mfa-qr" src={step.qrDataUrl} alt="QR code for your authenticator app" width={180} height={180} />
          <p className="muted">
            No camera? Type this key into the app:
            <br />
            <code className="mfa-secret" data-testid="totp-secret" data-secret={step.secret}>
              {grouped(step.secret)}
            </code>
          </p>
          <CodeField label="Six-digit code from the app" name="totp-code" value={code} onChange={setCode} required autoFocus />
          {err}
          <div className="mfa-actions">
            <button type="submit" disabled={busy}>
              Turn on two-step sign-in
            </button>
            {onCancel && (
              <button type="button" className="ghost-button" onClick={onCancel}>
                Cancel
              </button>
            )}
          </div>
        </form>
      );
    case 'codes':
      return <RecoveryCodeList codes={step.codes} onDone={onDone} />;
  }
}

/** Ten recovery codes, shown once: the core keeps only their hashes. */
export function RecoveryCodeList({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <div className="mfa-step" role="region" aria-label="Recovery codes">
      <p>
        <strong>Save these recovery codes now.</strong> Each one signs you in once if you lose your phone. They are not shown again.
      </p>
      <ol className="mfa-codes" data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <button type="button" onClick={onDone}>
        I have saved these codes
      </button>
    </div>
  );
}
