/** A 5×7 bitmap font, enough letters to draw test text that OCR can read back. */
const FONT: Readonly<Record<string, readonly string[]>> = {
  H: ['10001', '10001', '10001', '11111', '10001', '10001', '10001'],
  E: ['11111', '10000', '10000', '11110', '10000', '10000', '11111'],
  L: ['10000', '10000', '10000', '10000', '10000', '10000', '11111'],
  O: ['01110', '10001', '10001', '10001', '10001', '10001', '01110'],
  W: ['10001', '10001', '10001', '10101', '10101', '10101', '01010'],
  R: ['11110', '10001', '10001', '11110', '10100', '10010', '10001'],
  D: ['11100', '10010', '10001', '10001', '10001', '10010', '11100'],
  ' ': ['00000', '00000', '00000', '00000', '00000', '00000', '00000'],
};

/** A binary PGM (P5) of black text on white, one row per line; letters from {@link FONT} only. */
export function textImagePgm(lines: readonly string[], scale = 8, margin = 40): Buffer {
  const width = Math.max(...lines.map((l) => l.length)) * 6 * scale + 2 * margin;
  const lineHeight = 10 * scale;
  const height = lines.length * lineHeight + 2 * margin;
  const px = Buffer.alloc(width * height, 255);
  lines.forEach((line, li) =>
    [...line].forEach((ch, ci) => {
      const glyph = FONT[ch];
      if (!glyph) throw new Error(`textImagePgm: no glyph for ${JSON.stringify(ch)}`);
      glyph.forEach((row, ry) =>
        [...row].forEach((bit, rx) => {
          if (bit !== '1') return;
          for (let dy = 0; dy < scale; dy++) {
            for (let dx = 0; dx < scale; dx++) {
              px[(margin + li * lineHeight + ry * scale + dy) * width + margin + (ci * 6 + rx) * scale + dx] = 0;
            }
          }
        }),
      );
    }),
  );
  return Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`), px]);
}
