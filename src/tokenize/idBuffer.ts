/** A growable Uint32Array of token ids (doubling), for encoders that emit ids piece by piece. */
export class IdBuffer {
  private ids: Uint32Array;
  private length = 0;

  /** @param initialIds - first capacity, in ids. */
  constructor(initialIds = 1024) {
    this.ids = new Uint32Array(Math.max(16, initialIds));
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.ids.length) return;
    const grown = new Uint32Array(Math.max(this.ids.length * 2, this.length + extra));
    grown.set(this.ids.subarray(0, this.length));
    this.ids = grown;
  }

  /** Appends one id. */
  push(id: number): void {
    if (this.length === this.ids.length) this.reserve(1);
    this.ids[this.length++] = id;
  }

  /** Appends ids. */
  pushAll(chunk: ArrayLike<number>): void {
    this.reserve(chunk.length);
    this.ids.set(chunk, this.length);
    this.length += chunk.length;
  }

  /** The ids so far, as a new array of exactly their length. */
  take(): Uint32Array {
    return this.ids.slice(0, this.length);
  }
}
