// DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766): each message is preceded by its 2-byte length.
// Memory per connection is bounded by one frame (≤ 65,535 bytes), and cost is linear in the bytes
// received however the client slices them: a frame is copied into a buffer of its final size
// instead of re-concatenating everything received so far (which one-byte-at-a-time senders
// would turn into quadratic work).

export type FramePushResult = 'ok' | 'bad-frame' | 'stopped';

export class FrameReader {
  #lengthBytes = 0;
  #firstLengthByte = 0;
  #frame: Buffer | null = null;
  #filled = 0;

  /**
   * Feeds received bytes; calls `onFrame` for each complete message. `onFrame` may return false to
   * stop (the connection is going away). A zero length prefix is a protocol violation.
   * Frames handed out may be views into `chunk`; consumers must not keep them.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => boolean): FramePushResult {
    let off = 0;
    while (off < chunk.length) {
      if (this.#frame === null) {
        // Fast path: a whole frame inside this chunk needs no copy.
        if (this.#lengthBytes === 0 && chunk.length - off >= 2) {
          const length = chunk.readUInt16BE(off);
          if (length === 0) return 'bad-frame';
          if (chunk.length - off - 2 >= length) {
            if (!onFrame(chunk.subarray(off + 2, off + 2 + length))) return 'stopped';
            off += 2 + length;
            continue;
          }
        }
        const byte = chunk[off++] as number;
        if (this.#lengthBytes === 0) {
          this.#firstLengthByte = byte;
          this.#lengthBytes = 1;
          continue;
        }
        const length = (this.#firstLengthByte << 8) | byte;
        this.#lengthBytes = 0;
        if (length === 0) return 'bad-frame';
        this.#frame = Buffer.allocUnsafe(length);
        this.#filled = 0;
        continue;
      }
      const frame = this.#frame;
      const take = Math.min(frame.length - this.#filled, chunk.length - off);
      chunk.copy(frame, this.#filled, off, off + take);
      this.#filled += take;
      off += take;
      if (this.#filled === frame.length) {
        this.#frame = null;
        if (!onFrame(frame)) return 'stopped';
      }
    }
    return 'ok';
  }

  /** Bytes held for an incomplete frame (for tests and diagnostics). */
  get bufferedBytes(): number {
    return this.#frame === null ? this.#lengthBytes : 2 + this.#filled;
  }
}

export function frameMessage(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(2 + message.length);
  framed.writeUInt16BE(message.length, 0);
  message.copy(framed, 2);
  return framed;
}
