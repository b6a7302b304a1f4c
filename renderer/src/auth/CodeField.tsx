/**
 * A one-time code field as every two-step screen asks for it: the authenticator app's six
 * digits (numeric keyboard, the browser's one-time-code autofill), or, with `orRecovery`, a
 * recovery code as well, which is not six digits, so no pattern then.
 */
export function CodeField({
  label,
  value,
  onChange,
  name,
  orRecovery = false,
  required = false,
  autoFocus = false,
}: {
  label: string;
  value: string;
  onChange: (code: string) => void;
  name?: string;
  orRecovery?: boolean;
  required?: boolean;
  autoFocus?: boolean;
}) {
  return (
    <label>
      {label}
      <input
        name={name}
        inputMode={orRecovery ? undefined : 'numeric'}
        autoComplete="one-time-code"
        pattern={orRecovery ? undefined : '\\d{6}'}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        required={required}
        autoFocus={autoFocus}
      />
    </label>
  );
}
