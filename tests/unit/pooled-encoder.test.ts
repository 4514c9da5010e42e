import { installKafkaPatches } from '../../src/kafka/patches';
import { pooledEncoderInstalled, pooledEncoderOf } from '../../src/kafka/pooled-encoder';

// Importing the modules above changed nothing; installing puts the pooled Encoder in place of KafkaJS's.
const installedBefore = pooledEncoderInstalled();
const report = installKafkaPatches();
// KafkaJS's own Encoder is the pooled one's prototype.
const Installed = require('kafkajs/src/protocol/encoder');
const Encoder = Object.getPrototypeOf(Installed);

/** Leaves garbage in Node's buffer pool, where the pooled encoder allocates next. */
function dirtyThePool(): void {
  for (let i = 0; i < 64; i++) Buffer.allocUnsafe(512).fill(0xab);
}

/** A mix of every kind of write, growing past the initial 512 bytes several times. */
function encode(E: new (size?: number) => { buffer: Buffer } & Record<string, (...a: unknown[]) => unknown>): Buffer {
  const e = new E();
  e.writeInt8(-3);
  e.writeInt16(513);
  e.writeInt32(-70_000);
  e.writeUInt32(4_000_000_000);
  e.writeInt64('9007199254740993');
  e.writeString('héllo');
  e.writeVarIntString('x'.repeat(700));
  e.writeVarIntBytes(Buffer.from('bytes ✓'));
  e.writeVarIntBytes(null);
  e.writeString(null);
  e.writeDouble(1.5);
  e.writeBoolean(true);
  e.writeBytes(Buffer.alloc(3000, 7));
  e.writeVarInt(-123456);
  e.writeVarLong(1234567890123);
  const inner = new E();
  inner.writeVarIntString('inner');
  e.writeEncoder(inner);
  e.writeArray(['a', 'bb', 'ccc']);
  return e.buffer;
}

describe('pooled KafkaJS encoder', () => {
  it('is in place of KafkaJS’s Encoder once installed, not on import', () => {
    expect(installedBefore).toBe(false);
    expect(report.find((o) => o.patch === 'pooled-encoder')?.status).toBe('installed');
    expect(pooledEncoderInstalled()).toBe(true);
    expect(Encoder.name).toBe('Encoder');
    expect(Installed).not.toBe(Encoder);
  });

  it('writes exactly the bytes of KafkaJS’s own Encoder, whatever the pool held before', () => {
    const expected = encode(Encoder);
    dirtyThePool();
    const got = encode(pooledEncoderOf(Encoder) as never);
    expect(got.equals(expected)).toBe(true);
    expect(got.length).toBeGreaterThan(3000);
    dirtyThePool();
    expect(encode(Installed).equals(expected)).toBe(true);
  });

  it('is an Encoder to KafkaJS: instanceof, statics and a growing buffer from the pool', () => {
    const Pooled = pooledEncoderOf(Encoder) as unknown as { new (): { buf: Buffer; writeVarIntString(s: string): unknown }; sizeOfVarInt(n: number): number };
    const e = new Pooled();
    expect(e).toBeInstanceOf(Encoder);
    expect(Pooled.sizeOfVarInt(300)).toBe(Encoder.sizeOfVarInt(300));
    // Small buffers are slices of Node's shared pool; the original's are buffers of their own.
    expect(e.buf.buffer.byteLength).toBe(Buffer.poolSize);
    expect(new Encoder().buf.buffer.byteLength).toBe(512);
    e.writeVarIntString('y'.repeat(1000));
    expect(e.buf.length).toBe(1024);
  });
});
