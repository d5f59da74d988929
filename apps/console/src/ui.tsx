import { useCallback, useEffect, useId, useState, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';
import { ApiFailure, toFailure } from './api/client';

/** The envelope's message and code, and the details that name no field of the form shown. */
export function ErrorBox({ error, fields = [] }: { error: unknown; fields?: string[] }) {
  if (!error) return null;
  const failure = error instanceof ApiFailure ? error : toFailure(0, undefined);
  const other = (failure.envelope.details ?? []).filter((detail) => !fields.includes(detail.field));
  return (
    <div className="error" role="alert">
      <p>
        <strong>{failure.envelope.error}</strong> <code>{failure.envelope.code}</code>
      </p>
      {other.length > 0 && (
        <ul>
          {other.map((detail) => (
            <li key={`${detail.field}:${detail.message}`}>
              <code>{detail.field}</code> {detail.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function fieldError(error: unknown, name: string | undefined): string | undefined {
  return error instanceof ApiFailure && name ? error.fieldMessage(name) : undefined;
}

/** The ids of a control's hint and error message (as FieldNotes gives them), or undefined when it has neither. */
function describedBy(id: string, hint: string | undefined, message: string | undefined): string | undefined {
  return [hint ? `${id}-hint` : '', message ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
}

/** The hint and the error message below a control, with the ids its aria-describedby names. */
function FieldNotes({ id, hint, message }: { id: string; hint?: string; message: string | undefined }) {
  return (
    <>
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {message && (
        <small id={`${id}-error`} className="field-error">
          {message}
        </small>
      )}
    </>
  );
}

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  /** The request's error: its detail naming this field (by `name`) is shown next to it. */
  error?: unknown;
  hint?: string;
}

export function Field({ label, error, hint, ...input }: FieldProps) {
  const id = useId();
  const message = fieldError(error, input.name);
  const described = describedBy(id, hint, message);
  const checkbox = input.type === 'checkbox';
  return (
    <div className={checkbox ? 'field checkbox' : 'field'}>
      {checkbox && <input id={id} aria-describedby={described} aria-invalid={message ? true : undefined} {...input} />}
      <label htmlFor={id}>{label}</label>
      {!checkbox && <input id={id} aria-describedby={described} aria-invalid={message ? true : undefined} {...input} />}
      <FieldNotes id={id} hint={hint} message={message} />
    </div>
  );
}

interface TextAreaProps extends TextareaHTMLAttributes<HTMLTextAreaElement> {
  label: string;
  error?: unknown;
  hint?: string;
}

export function TextArea({ label, error, hint, ...area }: TextAreaProps) {
  const id = useId();
  const message = fieldError(error, area.name);
  const described = describedBy(id, hint, message);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} aria-describedby={described} aria-invalid={message ? true : undefined} {...area} />
      <FieldNotes id={id} hint={hint} message={message} />
    </div>
  );
}

interface SelectProps extends SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  options: ReadonlyArray<string | { value: string; label: string }>;
  error?: unknown;
}

export function Select({ label, options, error, ...select }: SelectProps) {
  const id = useId();
  const message = fieldError(error, select.name);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-describedby={describedBy(id, undefined, message)} aria-invalid={message ? true : undefined} {...select}>
        {options.map((option) => {
          const { value, label: text } = typeof option === 'string' ? { value: option, label: option } : option;
          return (
            <option key={value} value={value}>
              {text}
            </option>
          );
        })}
      </select>
      <FieldNotes id={id} message={message} />
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A horizontally scrollable table that keyboard users can scroll too. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table>{children}</table>
    </div>
  );
}

/** Loads once and on `reload()`; shows nothing stale after an error. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  return { ...state, reload };
}

/** Runs an action (a form's submit, a button), keeping its error and whether it runs. */
export function useAction<A extends unknown[]>(
  action: (...args: A) => Promise<void>,
): { run: (...args: A) => Promise<boolean>; busy: boolean; error: unknown; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      await action(...args);
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clear: () => setError(null) };
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** A datetime-local value (read as UTC, as the console shows every time) to ISO, or undefined when empty. */
export function utcInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const parsed = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  return Number.isNaN(parsed) ? undefined : new Date(parsed).toISOString();
}
