import { setFlagsFromString } from 'node:v8';
import { applyHeapGrowth } from './heap-growth';

jest.mock('node:v8', () => ({ setFlagsFromString: jest.fn() }));

describe('applyHeapGrowth', () => {
  const setFlags = setFlagsFromString as jest.MockedFunction<typeof setFlagsFromString>;

  beforeEach(() => setFlags.mockClear());

  it('sets V8 --heap-growing-percent to the configured percent', () => {
    expect(applyHeapGrowth(30, [])).toBe(30);
    expect(setFlags).toHaveBeenCalledWith('--heap-growing-percent=30');
  });

  it('leaves V8 its own heuristic at 0', () => {
    expect(applyHeapGrowth(0, [])).toBeUndefined();
    expect(setFlags).not.toHaveBeenCalled();
  });

  it('lets a flag on the node command line win, with dashes or underscores', () => {
    expect(applyHeapGrowth(30, ['--heap-growing-percent=80'])).toBe(80);
    expect(applyHeapGrowth(30, ['--heap_growing_percent=50'])).toBe(50);
    expect(setFlags).not.toHaveBeenCalled();
  });
});
