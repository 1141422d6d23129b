/**
 * A temporary file of int32 token ids: the tokenize pass appends every in-range document once,
 * the write pass reads pieces back by offset. Memory stays bounded by one row, disk holds the
 * in-range tokens (4 bytes each). Removed when the build ends, whether it succeeds or not.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';

/** Append-then-read store of token ids. */
export class TokenSpill {
  private lengthTokens = 0;

  private constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates (truncates) the spill file at `file`. */
  static async create(file: string): Promise<TokenSpill> {
    return new TokenSpill(file, await open(file, 'w+'));
  }

  /** Appends `ids`; returns the offset (tokens) of its first id. */
  async append(ids: Int32Array): Promise<number> {
    const offset = this.lengthTokens;
    await this.handle.write(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength), 0, ids.byteLength, offset * 4);
    this.lengthTokens += ids.length;
    return offset;
  }

  /**
   * Reads tokens `[offsetTokens, offsetTokens + target.length)` into `target`.
   * @throws Error when the file is shorter than asked (a bug or a removed file).
   */
  async read(offsetTokens: number, target: Int32Array): Promise<void> {
    const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await this.handle.read(bytes, done, bytes.length - done, offsetTokens * 4 + done);
      if (bytesRead === 0) throw new Error(`token spill ${this.file} ended at byte ${offsetTokens * 4 + done}`);
      done += bytesRead;
    }
  }

  /** Closes and deletes the file. */
  async dispose(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.file, { force: true });
  }
}
