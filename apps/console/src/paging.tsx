import { useState } from 'react';

/** The cursors of the pages before this one, so "Previous page" goes back; the newest is the page shown. */
export function useCursors() {
  const [cursors, setCursors] = useState<string[]>([]);
  return {
    cursor: cursors[cursors.length - 1] as string | undefined,
    first: cursors.length === 0,
    back: () => setCursors(cursors.slice(0, -1)),
    forward: (next: string) => setCursors([...cursors, next]),
    /** To the first page, as a change of filters or page size asks. */
    restart: () => setCursors([]),
  };
}

export type Cursors = ReturnType<typeof useCursors>;

/** "Previous page" and "Next page" of a cursor-paged list; the page shown gives the next cursor, if any. */
export function PageButtons({ pages, nextCursor }: { pages: Cursors; nextCursor: string | null | undefined }) {
  return (
    <div className="actions">
      <button type="button" className="secondary" disabled={pages.first} onClick={pages.back}>
        Previous page
      </button>
      <button
        type="button"
        className="secondary"
        disabled={!nextCursor}
        onClick={() => {
          if (nextCursor) pages.forward(nextCursor);
        }}
      >
        Next page
      </button>
    </div>
  );
}
