/**
 * Bounds the size of each `Content-Length` frame before vscode-jsonrpc buffers it. The library
 * would otherwise wait for (and hold) any body a peer announces. The guard only walks the
 * framing; parsing stays with the library.
 */
import { Transform, TransformCallback } from 'node:stream';

const HEADER_END = '\r\n\r\n';
const MAX_HEADER_BYTES = 1024;

export class FrameTooLargeError extends Error {}

export class FrameSizeGuard extends Transform {
  private header = '';
  private bodyRemaining = 0;

  constructor(private readonly maxFrameBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.inspect(chunk);
      callback(null, chunk);
    } catch (error) {
      callback(error as Error);
    }
  }

  private inspect(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.bodyRemaining > 0) {
        const taken = Math.min(this.bodyRemaining, chunk.length - offset);
        this.bodyRemaining -= taken;
        offset += taken;
        continue;
      }
      this.header += String.fromCharCode(chunk[offset++]);
      if (this.header.length > MAX_HEADER_BYTES) {
        throw new FrameTooLargeError(`frame header longer than ${MAX_HEADER_BYTES} bytes`);
      }
      if (this.header.endsWith(HEADER_END)) {
        this.bodyRemaining = this.announcedLength();
        this.header = '';
      }
    }
  }

  private announcedLength(): number {
    // vscode-jsonrpc uses the last Content-Length and this guard would check the first: a frame
    // announcing two could slip past the limit, so it is refused outright.
    const announced = this.header.split('\r\n').filter(line => /^content-length\s*:/i.test(line));
    if (announced.length > 1) {
      throw new FrameTooLargeError('frame with more than one Content-Length header');
    }
    const match = /^content-length:[ \t]*(\d{1,12})[ \t]*$/im.exec(this.header);
    if (!match) {
      throw new FrameTooLargeError('frame without a Content-Length header');
    }
    const length = Number(match[1]);
    if (length + this.header.length > this.maxFrameBytes) {
      throw new FrameTooLargeError(`frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte limit`);
    }
    return length;
  }
}
