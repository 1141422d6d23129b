import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, InvariantError } from '../../src/core/errors.ts';
import type { ShardPlanned } from '../../src/plan/reduce.ts';
import { writeShard, type ReadTokens, type WriteOptions } from '../../src/write/index.ts';
import { removeTempDirs, tempDir } from '../helpers/build.ts';

afterAll(removeTempDirs);

/** A shard of `rows` rows of 8 tokens, each one whole 8-token document `d<row>`. */
const shard = (rows: number): ShardPlanned => ({
  index: 0,
  file: 'shard-00000-0badc0de.arrow',
  rank: 0,
  rows: Array.from({ length: rows }, (_, rowId) => ({
    rowId,
    window: 'short' as const,
    numPad: 0,
    pieces: [{ unit: 0, offsetTokens: 8 * rowId, lengthTokens: 8, source: 'web', docId: `d${rowId}`, startToken: 0, repeat: 0, part: 0, parts: 1 }],
  })),
});
const options = (over: Partial<WriteOptions> = {}): WriteOptions => ({
  rowTokens: 8,
  padId: 0,
  longRowAttention: 'document',
  rowsPerBatch: 1,
  vocabSize: 1000,
  shardMetadata: {},
  ...over,
});
/** Token t of the corpus has id t (BOS/EOS do not matter to the writer). */
const ids: ReadTokens = async (_unit, offset, target) => target.forEach((_, i) => (target[i] = offset + i));

describe('writeShard', () => {
  it('fails at the injected byte limit, naming the shard and the fix, and removes the temporary file', async () => {
    const tmp = path.join(await tempDir(), 'shard.tmp');
    const error = await writeShard(shard(6), ids, tmp, options({ maxShardBytes: 6000 })).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^shard-00000-0badc0de\.arrow: rows 3\.\.3 would take the shard to \d+ bytes, past its limit of 6000 bytes/);
    expect(existsSync(tmp)).toBe(false);
    // The same shard under the default limit is written whole.
    await expect(writeShard(shard(6), ids, tmp, options())).resolves.toMatchObject({ rows: 6, tokens: 48 });
  });

  it('refuses a token id at or above the vocabulary size, naming the shard and row', async () => {
    const tmp = path.join(await tempDir(), 'shard.tmp');
    // Row 3's ids are 24..31: id 30 is past a vocabulary of 30 ids.
    const error = await writeShard(shard(6), ids, tmp, options({ vocabSize: 30 })).catch((e) => e);
    expect(error).toBeInstanceOf(InvariantError);
    expect(error.message).toBe('shard-00000-0badc0de.arrow row 3: refusing to write the row: input_ids[6] = 30 is outside the vocabulary [0, 30)');
    expect(existsSync(tmp)).toBe(false);
  });
});
