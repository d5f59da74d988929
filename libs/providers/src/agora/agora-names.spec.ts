import { AGORA_NAME } from './agora-names';

describe('AGORA_NAME', () => {
  it("accepts Agora's whole character set", () => {
    expect(AGORA_NAME.test('aZ09 !#$%&()+-:;<=.>?@[]^_{|}~,')).toBe(true);
    expect(AGORA_NAME.test('6f1c2f4e-8a4b-4c1e-9d53-0d2f7c1b9a10')).toBe(true);
  });

  it('refuses characters outside it', () => {
    for (const bad of ['', 'a/b', 'quote"', "apos'", 'star*', 'back\\slash', 'tab\t', 'é', 'new\nline', '`', '😀', '*']) {
      expect({ bad, ok: AGORA_NAME.test(bad) }).toEqual({ bad, ok: false });
    }
  });
});
