import type { EventEmitter } from 'node:events';
import { framedSize, textFrames } from '../../src/streaming/frames';


// ws's frame parser (exported by ws, not declared by its types).
const { Receiver } = require('ws') as { Receiver: new (options: { isServer: boolean }) => EventEmitter & { write(chunk: Buffer): void } };

/** Decodes frames as a WebSocket client does, with `ws`'s own receiver. */
function decode(frames: Buffer): Array<{ text: string; binary: boolean }> {
  const messages: Array<{ text: string; binary: boolean }> = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer, binary: boolean) => messages.push({ text: data.toString('utf8'), binary }));
  receiver.on('error', (err: Error) => {
    throw err;
  });
  receiver.write(frames);
  return messages;
}

describe('textFrames', () => {
  it.each([
    // A message is size + 11 bytes: {"id":"7", then the payload, then }.
    ['a short message (7-bit length)', 40],
    ['the largest 7-bit length (125)', 125 - 11],
    ['the smallest 16-bit length (126)', 126 - 11],
    ['the largest 16-bit length (65,535)', 65_535 - 11],
    ['the smallest 64-bit length (65,536)', 65_536 - 11],
  ])('frames %s as one text message that a WebSocket client reads back', (_name, size) => {
    const payload = Buffer.from(`{"data":"${'x'.repeat(size - 11)}"}`);
    const parts = [Buffer.from('{"id":"7",'), payload, Buffer.from('}')];
    const frame = textFrames(parts);
    expect(framedSize(parts)).toBe(frame.length);
    const length = parts.reduce((n, p) => n + p.length, 0);
    expect(frame.length).toBe(length + (length < 126 ? 2 : length < 65_536 ? 4 : 10));
    expect(decode(frame)).toEqual([{ text: Buffer.concat(parts).toString('utf8'), binary: false }]);
  });

  it('frames multi-byte text byte for byte, and consecutive frames as consecutive messages', () => {
    const empty = Buffer.alloc(0);
    const both = textFrames([Buffer.from('{"t":"ünïcødé ✓"}'), empty, empty, Buffer.from('{"n":'), Buffer.from('2'), Buffer.from('}')]);
    expect(decode(both)).toEqual([
      { text: '{"t":"ünïcødé ✓"}', binary: false },
      { text: '{"n":2}', binary: false },
    ]);
  });
});
