/**
 * A compressed answer's body, decoded as fetch decodes it (gzip, deflate, br), at the cost its
 * size calls for. Node's zlib streams do their work on the libuv thread pool: each chunk goes to
 * another thread and comes back through the event loop, two hand-offs for even a 500-byte
 * profile, which on a busy or virtualized machine cost far more than the decoding itself (a
 * synchronous gunzip of a small Graph answer takes about 15 µs). So the encoded bytes are held
 * until the answer ends and decoded in one synchronous call while they stay small; an answer
 * that grows past that, or decodes to more than a bounded size (a compression bomb blocks the
 * event loop for at most that much work), is decoded by the streaming decoder instead, with
 * backpressure, from its first byte.
 */
import type { IncomingMessage } from 'node:http';
import { Readable, Transform, finished } from 'node:stream';
import {
  brotliDecompressSync, createBrotliDecompress, createGunzip, createInflate, gunzipSync, inflateSync,
} from 'node:zlib';

/** Encoded bytes held for one synchronous decode; more than this streams. */
export const SYNC_DECODE_MAX_ENCODED = 64 * 1024;
/** Decoded bytes one synchronous decode may produce; an answer that decodes to more streams. */
export const SYNC_DECODE_MAX_DECODED = 1024 * 1024;

interface Codec {
  readonly decodeSync: (input: Buffer, options: { maxOutputLength: number }) => Buffer;
  readonly decoder: () => Transform;
}

const GZIP: Codec = { decodeSync: gunzipSync, decoder: createGunzip };
const CODECS = new Map<string, Codec>([
  ['gzip', GZIP],
  ['x-gzip', GZIP],
  ['deflate', { decodeSync: inflateSync, decoder: createInflate }],
  ['br', { decodeSync: brotliDecompressSync, decoder: createBrotliDecompress }],
]);

/** The codec for a Content-Encoding fetch decodes (one coding); undefined for anything else, passed as it came. */
export function codecFor(contentEncoding: string | null): Codec | undefined {
  return contentEncoding === null ? undefined : CODECS.get(contentEncoding.trim().toLowerCase());
}

export class DecodedBody extends Readable {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private decoder: Transform | undefined;
  private started = false;
  /** The source failed before anyone read: told when reading starts, never to no listener. */
  private failure: Error | undefined;

  constructor(private readonly source: IncomingMessage, private readonly codec: Codec) {
    super();
    finished(source, { writable: false }, error => { if (error) { this.sourceFailed(error); } });
  }

  /** Nothing flows until the body is read, so every outcome (an error included) has someone to hear it. */
  override _read(): void {
    if (this.started) {
      this.decoder?.resume();
      return;
    }
    this.started = true;
    if (this.failure) {
      this.destroy(this.failure);
      return;
    }
    this.source.on('data', (chunk: Buffer) => this.received(chunk));
    this.source.once('end', () => this.sourceEnded());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.source.readableEnded) { this.source.destroy(); }
    this.decoder?.destroy();
    this.held = [];
    callback(error);
  }

  private sourceFailed(error: Error): void {
    if (this.started) {
      this.destroy(error);
    } else {
      this.failure = error;
    }
  }

  private received(chunk: Buffer): void {
    if (this.decoder) {
      if (!this.decoder.write(chunk)) { this.source.pause(); }
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.byteLength;
    if (this.heldBytes > SYNC_DECODE_MAX_ENCODED) {
      this.streamFromTheStart();
    }
  }

  private sourceEnded(): void {
    if (this.decoder) {
      this.decoder.end();
      return;
    }
    let decoded: Buffer;
    try {
      decoded = this.codec.decodeSync(Buffer.concat(this.held, this.heldBytes), { maxOutputLength: SYNC_DECODE_MAX_DECODED });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        this.streamFromTheStart();
        this.decoder!.end();
      } else {
        this.destroy(error as Error);
      }
      return;
    }
    this.held = [];
    if (decoded.byteLength > 0) { this.push(decoded); }
    this.push(null);
  }

  /** Hands everything held, and all that follows, to the streaming decoder. */
  private streamFromTheStart(): void {
    const decoder = this.codec.decoder();
    this.decoder = decoder;
    decoder.on('data', (chunk: Buffer) => { if (!this.push(chunk)) { decoder.pause(); } });
    decoder.once('end', () => this.push(null));
    decoder.once('error', error => this.destroy(error));
    decoder.on('drain', () => this.source.resume());
    for (const chunk of this.held) {
      if (!decoder.write(chunk)) { this.source.pause(); }
    }
    this.held = [];
  }
}
