import { useEffect, useState } from 'react';
import type { ParamSpec, ParamValue } from '../../engine/graph/types.ts';

/** Parses what the user typed for a parameter; returns the value or a message saying what is wrong. */
export function parseParam(name: string, spec: ParamSpec, text: string): { value: ParamValue } | { error: string } {
  const label = spec.label ?? name;
  const t = text.trim();
  const range = (n: number, min?: number, max?: number): string | null => {
    if (min !== undefined && n < min) return `${label} must be at least ${min}, got ${n}`;
    if (max !== undefined && n > max) return `${label} must be at most ${max}, got ${n}`;
    return null;
  };
  switch (spec.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(t)) return { error: `${label} must be a whole number${t ? `, got "${t}"` : ''}` };
      const n = Number(t);
      const bad = range(n, spec.min, spec.max);
      return bad ? { error: bad } : { value: n };
    }
    case 'float': {
      const n = Number(t);
      if (t === '' || !Number.isFinite(n)) return { error: `${label} must be a number${t ? `, got "${t}"` : ''}` };
      const bad = range(n, spec.min, spec.max);
      return bad ? { error: bad } : { value: n };
    }
    case 'ints': {
      const word = spec.keywords?.find((k) => k === t.toLowerCase());
      if (word) return { value: word };
      const parts = t.split(/[\s,×x]+/).filter(Boolean);
      if (parts.length === 0 || parts.some((p) => !/^-?\d+$/.test(p))) return { error: `${label} must be whole numbers separated by commas, like "5" or "3, 3"${spec.keywords?.length ? `, or ${spec.keywords.map((k) => `"${k}"`).join(' or ')}` : ''}` };
      const values = parts.map(Number);
      if (spec.length !== undefined && values.length !== spec.length && values.length !== 1) {
        return { error: `${label} takes ${spec.length} numbers (or one for all), got ${values.length}` };
      }
      const low = values.find((v) => spec.min !== undefined && v < spec.min);
      if (low !== undefined) return { error: `${label} must be at least ${spec.min}, got ${low}` };
      return { value: values };
    }
    case 'string':
      return { value: text };
    case 'bool':
      return { value: t === 'true' };
    case 'choice':
      return spec.options.includes(t) ? { value: t } : { error: `${label} must be one of ${spec.options.join(', ')}` };
  }
}

function asText(value: ParamValue | undefined): string {
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

interface ParamFieldProps {
  name: string;
  spec: ParamSpec;
  value: ParamValue | undefined;
  /** A valid value while typing: applied at once, joined into one undo entry. */
  onEdit: (value: ParamValue) => void;
  /** A finished change (a choice, a checkbox) or the end of typing (blur, Enter). */
  onCommit: (value?: ParamValue) => void;
}

/** One parameter as a form field generated from its schema, validated as the user types. */
export function ParamField({ name, spec, value, onEdit, onCommit }: ParamFieldProps) {
  const [draft, setDraft] = useState(asText(value));
  const [error, setError] = useState<string | null>(null);
  // Follow outside changes (undo, another node) without rewriting what the user is typing.
  useEffect(() => {
    setDraft((d) => {
      const parsed = parseParam(name, spec, d);
      return 'value' in parsed && JSON.stringify(parsed.value) === JSON.stringify(value) ? d : asText(value);
    });
  }, [name, spec, value]);

  const id = `param-${name}`;
  const label = spec.label ?? name;
  const help = [spec.help, spec.kind === 'int' || spec.kind === 'float' ? rangeText(spec.min, spec.max) : null].filter(Boolean).join(' · ');

  if (spec.kind === 'bool') {
    return (
      <label className="param-field param-bool" data-testid={id}>
        <input type="checkbox" checked={value === true} onChange={(e) => onCommit(e.target.checked)} />
        <span>{label}</span>
      </label>
    );
  }
  if (spec.kind === 'choice') {
    return (
      <label className="param-field" data-testid={id}>
        <span className="param-label">{label}</span>
        <select value={String(value ?? spec.default)} onChange={(e) => onCommit(e.target.value)}>
          {spec.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
        {spec.help && <small className="param-help">{spec.help}</small>}
      </label>
    );
  }
  const numeric = spec.kind === 'int' || spec.kind === 'float';
  return (
    <label className={`param-field${error ? ' invalid' : ''}`} data-testid={id} htmlFor={id}>
      <span className="param-label">{label}</span>
      <input
        id={id}
        name={name}
        type="text"
        inputMode={numeric ? 'decimal' : undefined}
        value={draft}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => {
          const text = e.target.value;
          setDraft(text);
          const parsed = parseParam(name, spec, text);
          if ('error' in parsed) setError(parsed.error);
          else {
            setError(null);
            onEdit(parsed.value);
          }
        }}
        onBlur={() => onCommit()}
        onKeyDown={(e) => {
          if (e.key === 'Enter') onCommit();
          if (e.key === 'Escape') {
            setDraft(asText(value));
            setError(null);
          }
        }}
      />
      {error ? (
        <small className="param-error" id={`${id}-error`} role="alert" data-testid="param-error">
          {error}
        </small>
      ) : (
        help && <small className="param-help">{help}</small>
      )}
    </label>
  );
}

function rangeText(min?: number, max?: number): string | null {
  if (min !== undefined && max !== undefined) return `${min} to ${max}`;
  if (min !== undefined) return `at least ${min}`;
  if (max !== undefined) return `at most ${max}`;
  return null;
}
