import { useState, type FormEvent } from 'react';

/**
 * A filter form's two states: what is typed (the draft) and what the data shown was asked with (applied).
 * Typing changes only the draft, so the list does not reload on every key; submitting applies it.
 */
export function useFilters<F extends object>(none: F, onApply?: () => void) {
  const [draft, setDraft] = useState<F>(none);
  const [applied, setApplied] = useState<F>(none);
  /** The draft's field `name` follows its input. */
  const set = (name: keyof F) => (event: { target: { value: string } }) => setDraft({ ...draft, [name]: event.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply?.();
    setApplied(draft);
  };
  /** Back to no filters, typed and applied. */
  const clear = () => {
    setDraft(none);
    setApplied(none);
  };
  return { draft, setDraft, applied, set, submit, clear };
}
