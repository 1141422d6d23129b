/**
 * Zstandard frames shorter than the 18 bytes fzstd waits for before it decodes a frame (found by
 * the bad-input suite): `zstd` writes such frames for a few bytes of text. Before the fix a frame
 * with a checksum was refused as corrupt ("hi" below), and one without was read as nothing.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDecoded } from '../../src/read/decompress.ts';
import { zstdStored } from '../helpers/badInputs.ts';
import { removeTempDirs, tempDir } from '../helpers/build.ts';

afterAll(removeTempDirs);

/** `printf hi | zstd` (zstd 1.5): single segment, content size 2, one raw block, XXH64 checksum. */
const HI = Buffer.from('28b52ffd0458110000686' + '9fa3826ea', 'hex');

async function decode(bytes: Buffer): Promise<{ text: string; error: string | null }> {
  const file = path.join(await tempDir(), 'x.zst');
  await writeFile(file, bytes);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of (await openDecoded(file, 'x.zst')).bytes) chunks.push(chunk);
    return { text: Buffer.concat(chunks).toString('latin1'), error: null };
  } catch (error) {
    return { text: Buffer.concat(chunks).toString('latin1'), error: (error as Error).message };
  }
}

describe('zstd frames of fewer than 18 bytes', () => {
  it('a frame as the zstd command writes it for two bytes, checksum verified', async () => {
    expect(HI.length).toBe(15);
    expect(await decode(HI)).toEqual({ text: 'hi', error: null });
  });

  it('a stored frame of five bytes without a checksum, and two tiny frames in a row', async () => {
    expect(await decode(zstdStored(Buffer.from('abcde')))).toEqual({ text: 'abcde', error: null });
    expect(await decode(Buffer.concat([HI, zstdStored(Buffer.from('!')), HI]))).toEqual({ text: 'hi!hi', error: null });
  });

  it('a tiny frame whose checksum does not match is still corrupt', async () => {
    const bad = Buffer.from(HI);
    bad[10] = 0x6f; // "ho"
    expect(await decode(bad)).toEqual({
      text: 'ho',
      error: expect.stringMatching(/^content checksum mismatch in the frame at byte 0 \(stored ea2638fa, computed [0-9a-f]+\): the data is corrupt$/),
    });
  });
});
