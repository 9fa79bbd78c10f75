import { describe, expect, it } from 'vitest';
import { FrameReader, frameMessage } from './tcp-framing.ts';

function collect(chunks: Buffer[]): { frames: string[]; results: string[]; buffered: number } {
  const reader = new FrameReader();
  const frames: string[] = [];
  const results = chunks.map((chunk) =>
    reader.push(chunk, (frame) => {
      frames.push(frame.toString('latin1'));
      return true;
    }),
  );
  return { frames, results, buffered: reader.bufferedBytes };
}

describe('FrameReader', () => {
  const stream = Buffer.concat([
    frameMessage(Buffer.from('hello')),
    frameMessage(Buffer.from('x')),
    frameMessage(Buffer.alloc(300, 'z')),
  ]);

  it('splits several frames arriving in one chunk', () => {
    expect(collect([stream]).frames).toEqual(['hello', 'x', 'z'.repeat(300)]);
  });

  it('reassembles frames however the stream is cut', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const { frames, buffered } = collect([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(frames).toEqual(['hello', 'x', 'z'.repeat(300)]);
      expect(buffered).toBe(0);
    }
    const bytewise = collect([...stream].map((b) => Buffer.from([b])));
    expect(bytewise.frames).toHaveLength(3);
  });

  it('holds at most one partial frame', () => {
    const { frames, buffered } = collect([Buffer.from([0xff, 0xff, 1, 2, 3])]);
    expect(frames).toEqual([]);
    expect(buffered).toBe(5);
  });

  it('reports a zero length prefix as a bad frame, also when split', () => {
    expect(collect([Buffer.from([0, 0, 1])]).results).toEqual(['bad-frame']);
    expect(collect([Buffer.from([0]), Buffer.from([0])]).results).toEqual(['ok', 'bad-frame']);
  });

  it('stops when the consumer says so', () => {
    const reader = new FrameReader();
    let seen = 0;
    expect(reader.push(stream, () => ++seen < 2)).toBe('stopped');
    expect(seen).toBe(2);
  });

  it('frameMessage prefixes the length', () => {
    expect(frameMessage(Buffer.from([9, 8, 7]))).toEqual(Buffer.from([0, 3, 9, 8, 7]));
  });
});
