import type { ManualClock } from '../../libs/common/src/clock';

/**
 * The login tests run the service on a ManualClock placed a little way into a fixed 15-minute login
 * window (the contract's), so a window never rolls over by accident, Retry-After is exact, and "the
 * window passes" is one move of the clock. The window is written out here, not read from the code, so
 * the tests also pin it.
 */
export const LOGIN_WINDOW_MS = 15 * 60_000;

/** How far into a window the clock is put. */
export const LOGIN_WINDOW_OFFSET_MS = 10_000;

export function loginWindowStart(at: number): number {
  return at - (at % LOGIN_WINDOW_MS);
}

/** Moves the service's clock 10 s into the next login window, where every counter starts at 0. */
export function moveToNextLoginWindow(clock: ManualClock): void {
  clock.set(loginWindowStart(clock.nowMs()) + LOGIN_WINDOW_MS + LOGIN_WINDOW_OFFSET_MS);
}
