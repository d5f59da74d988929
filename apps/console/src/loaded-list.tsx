import type { ReactNode } from 'react';
import { Empty, ErrorBox, Loading } from './ui';

/**
 * A loaded list's states, in the order every list view shows them: loading (only until the first answer, so a
 * reload does not blank the list), the error (the load's, or an action's on its items), empty, or the items.
 */
export function LoadedList<T>({
  items,
  loading,
  error,
  what,
  empty,
  children,
}: {
  items: T[] | undefined;
  loading: boolean;
  error: unknown;
  /** What is loading, as "Loading …" names it. */
  what: string;
  empty: ReactNode;
  children: (items: T[]) => ReactNode;
}) {
  return (
    <>
      {loading && !items && <Loading what={what} />}
      <ErrorBox error={error} />
      {items && items.length === 0 && <Empty>{empty}</Empty>}
      {items && items.length > 0 && children(items)}
    </>
  );
}
