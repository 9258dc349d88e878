import { useEffect, useState, type ReactNode } from 'react';

/** Parses a number typed into a settings field; the message names the field and the text. */
export function parseNumber(label: string, text: string, opts: { integer?: boolean; min?: number; max?: number; minExclusive?: boolean } = {}): { value: number } | { error: string } {
  const t = text.trim();
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) return { error: `${label} must be a number${t ? `, got "${t}"` : ''}` };
  if (opts.integer && !Number.isInteger(n)) return { error: `${label} must be a whole number, got ${t}` };
  if (opts.min !== undefined && (opts.minExclusive ? n <= opts.min : n < opts.min)) return { error: `${label} must be ${opts.minExclusive ? 'above' : 'at least'} ${opts.min}, got ${t}` };
  if (opts.max !== undefined && n > opts.max) return { error: `${label} must be at most ${opts.max}, got ${t}` };
  return { value: n };
}

export interface NumberFieldProps {
  label: string;
  value: number;
  testId: string;
  integer?: boolean;
  min?: number;
  max?: number;
  minExclusive?: boolean;
  step?: number | 'any';
  disabled?: boolean;
  help?: string;
  /** Called with a valid number when the user finishes (Enter or leaving the field). */
  onCommit: (value: number) => void;
}

/** A number setting: typed freely, checked as the user types, applied on Enter or blur. */
export function NumberField({ label, value, testId, integer, min, max, minExclusive, step = 'any', disabled, help, onCommit }: NumberFieldProps) {
  const [draft, setDraft] = useState(String(value));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDraft(String(value));
    setError(null);
  }, [value]);
  const commit = (): void => {
    const parsed = parseNumber(label, draft, { integer, min, max, minExclusive });
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setError(null);
    if (parsed.value !== value) onCommit(parsed.value);
  };
  return (
    <label className="setting" title={help}>
      <span className="setting-label">{label}</span>
      <input
        type="number"
        data-testid={testId}
        value={draft}
        step={step}
        disabled={disabled}
        aria-invalid={error !== null}
        onChange={(e) => {
          setDraft(e.target.value);
          const parsed = parseNumber(label, e.target.value, { integer, min, max, minExclusive });
          setError('error' in parsed ? parsed.error : null);
        }}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
        }}
      />
      {error && (
        <span className="setting-error" role="alert">
          {error}
        </span>
      )}
    </label>
  );
}

export function SelectField<T extends string>({ label, value, options, testId, disabled, onChange }: { label: string; value: T; options: readonly { value: T; label: string }[]; testId: string; disabled?: boolean; onChange: (value: T) => void }) {
  return (
    <label className="setting">
      <span className="setting-label">{label}</span>
      <select data-testid={testId} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value as T)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function CheckField({ label, checked, testId, disabled, onChange }: { label: string; checked: boolean; testId: string; disabled?: boolean; onChange: (checked: boolean) => void }) {
  return (
    <label className="setting setting-check">
      <input type="checkbox" data-testid={testId} checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} />
      <span className="setting-label">{label}</span>
    </label>
  );
}

export function SettingsGroup({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="settings-group">
      <legend>{title}</legend>
      {children}
    </fieldset>
  );
}
