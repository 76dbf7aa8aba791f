/** Typical adult silent reading speed for non-fiction (Brysbaert, 2019: about 238 words per minute). */
export const WORDS_PER_MINUTE = 238;

// Intl.Segmenter knows word boundaries in scripts without spaces (Chinese, Japanese, Thai) too.
const words = new Intl.Segmenter(undefined, { granularity: 'word' });

/** Whole minutes, rounded up, at least 1: what a reader expects next to a title. */
export function readingTimeMinutes(text: string): number {
  let count = 0;
  for (const segment of words.segment(text)) if (segment.isWordLike) count += 1;
  return Math.max(1, Math.ceil(count / WORDS_PER_MINUTE));
}
