// A minimal Node + Express + Sharp image service: the baseline of scripts/bench-peers.
//
//   GET /render/:name?width=800&format=webp&quality=80
//
// reads ORIGINALS_DIR/:name, applies EXIF orientation, resizes without enlarging, encodes
// with metadata stripped (Sharp's default), and answers the bytes. It does the same image
// work as imgedge's transformer for such a query, and less of everything else (no signature,
// no object storage read or write, no database): a baseline that flatters the baseline.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import express from 'express';
import sharp from 'sharp';

const originals = process.env.ORIGINALS_DIR;
if (!originals) throw new Error('ORIGINALS_DIR is required');
const port = Number(process.env.PORT || 0);
const formats = new Set(['jpeg', 'png', 'webp', 'avif']);
// Sharp's AVIF default is 4:4:4 (no chroma subsampling) at effort 4; libvips, and so imgedge,
// subsample to 4:2:0 below quality 90, and imgedge encodes at effort 3. The same output is the
// same work: AVIF here is 4:2:0 at effort 3 too.
const formatOptions = { avif: { chromaSubsampling: '4:2:0', effort: 3 } };

const app = express();
app.get('/healthz', (_req, res) => res.send('ok'));
app.get('/render/:name', async (req, res) => {
  const name = path.basename(req.params.name);
  const width = Number(req.query.width) || undefined;
  const quality = Number(req.query.quality) || 80;
  const format = formats.has(req.query.format) ? req.query.format : 'jpeg';
  try {
    const input = await readFile(path.join(originals, name));
    const output = await sharp(input)
      .rotate()
      .resize({ width, withoutEnlargement: true })
      .toFormat(format, { quality, ...formatOptions[format] })
      .toBuffer();
    res.type(`image/${format}`).send(output);
  } catch (err) {
    res.status(err.code === 'ENOENT' ? 404 : 500).json({ error: String(err.message || err) });
  }
});

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`sharp baseline listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
