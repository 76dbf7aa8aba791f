import { readingTimeMinutes, WORDS_PER_MINUTE } from './reading-time';

describe('readingTimeMinutes', () => {
  const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

  it('is at least one minute, even for nothing', () => {
    expect(readingTimeMinutes('')).toBe(1);
    expect(readingTimeMinutes('hello')).toBe(1);
  });

  it('rounds up whole minutes', () => {
    expect(readingTimeMinutes(words(WORDS_PER_MINUTE))).toBe(1);
    expect(readingTimeMinutes(words(WORDS_PER_MINUTE + 1))).toBe(2);
    expect(readingTimeMinutes(words(WORDS_PER_MINUTE * 10))).toBe(10);
  });

  it('counts words, not punctuation or whitespace', () => {
    const text = `${words(WORDS_PER_MINUTE)} — , . ! ? ;\n\n\t   ...`;
    expect(readingTimeMinutes(text)).toBe(1);
  });

  it('counts words in scripts without spaces', () => {
    expect(readingTimeMinutes('我喜欢读书。'.repeat(200))).toBeGreaterThan(1);
  });
});
