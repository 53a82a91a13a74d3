// Characters a terminal line is made of that take one column each and are a grapheme of their
// own next to any other of them: printable ASCII and, beyond it, Latin letters, punctuation,
// arrows, math and technical symbols, box drawing, blocks, geometric shapes and the dingbats the
// console uses (✓ ✗ ● ◌ × · … → ◆ ▲ ■ ★ ⏸). For a string made only of these, string-width's
// answer is its length and ansi-tokenize's characters are its UTF-16 units, so both can skip
// grapheme segmentation (string-width's own fast path covers ASCII alone). Not in it: controls
// (C0, C1, U+00AD), combining marks, joiners and variation selectors, wide and emoji-presentation
// characters (⌛ ⏳), anything astral. test/ink-patch.test.tsx checks every code point here
// against the installed string-width, ansi-tokenize and Intl.Segmenter.
/** Inclusive [from, to] code point ranges. */
export const NARROW_RANGES = [
  [0x20, 0x7e],
  [0xae, 0x2ff],
  [0x2010, 0x2027],
  [0x2030, 0x205e],
  [0x2070, 0x20bf],
  [0x2100, 0x2319],
  [0x232b, 0x23e8],
  [0x23f4, 0x25fc],
  [0x25ff, 0x2613],
  [0x2616, 0x262f],
  [0x2638, 0x2647],
  [0x2654, 0x267e],
  [0x270c, 0x2727],
  [0x2729, 0x274b],
  [0x2758, 0x2794],
  [0x2798, 0x27af],
];

const hex = (n) => `\\u${n.toString(16).toUpperCase().padStart(4, '0')}`;
/** The ranges as the inside of a regular expression's character class: \u0020-\u007E\u00AE-... */
export const NARROW_CLASS = NARROW_RANGES.map(([a, b]) => `${hex(a)}-${hex(b)}`).join('');
/** One past the highest code point in the ranges (a lookup table's size). */
export const NARROW_END = Math.max(...NARROW_RANGES.map(([, b]) => b)) + 1;
