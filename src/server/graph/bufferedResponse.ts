/**
 * The answer the Graph and ARM clients are handed, its body already read (and capped) by
 * guardedFetch. A fetch `Response` made from bytes wraps them in a web ReadableStream (made
 * transferable, copied through the stream machinery again when read) and copies and re-validates
 * every header: about a tenth of a warm remote tool call's CPU, for bytes that are already in
 * memory. This is a Response over those bytes as they are: the same reads (`json`, `text`,
 * `arrayBuffer`, `blob`, once each, as fetch allows), decoded as fetch decodes them (UTF-8, a
 * leading BOM dropped), and the same `Headers` object the network link built. `body`, which
 * the SDK hands out for answers it does not parse, is a real ReadableStream, made when asked for.
 */

const UTF8 = new TextDecoder('utf-8');

export interface BufferedResponseInit {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly url: string;
}

export class BufferedResponse {
  readonly type = 'basic';
  readonly redirected = false;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly url: string;
  private bytes: Uint8Array | null;
  private stream: ReadableStream<Uint8Array> | null | undefined;
  private used = false;

  /** `bytes` null: an answer without a body (HEAD, 204, 304, or an empty one). */
  constructor(bytes: Uint8Array | null, init: BufferedResponseInit) {
    this.bytes = bytes;
    this.status = init.status;
    this.statusText = init.statusText;
    this.headers = init.headers;
    this.url = init.url;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.stream === undefined) {
      this.stream = this.bytes === null ? null : new Response(this.bytes).body;
    }
    return this.stream;
  }

  async text(): Promise<string> {
    return UTF8.decode(this.consume());
  }

  async json(): Promise<unknown> {
    return JSON.parse(UTF8.decode(this.consume()));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.consume();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async blob(): Promise<Blob> {
    return new Blob([this.consume()], { type: this.headers.get('Content-Type') ?? '' });
  }

  clone(): BufferedResponse {
    if (this.used) {
      throw new TypeError('Response.clone: Body has already been consumed.');
    }
    return new BufferedResponse(this.bytes, { ...this, headers: new Headers(this.headers) });
  }

  /** The bytes, once: a body read twice (or after its stream was taken) fails as fetch's does. */
  private consume(): Uint8Array {
    if (this.used || this.stream) {
      throw new TypeError('Body is unusable: Body has already been read');
    }
    this.used = true;
    const bytes = this.bytes ?? new Uint8Array(0);
    this.bytes = null;
    return bytes;
  }
}

/** What the SDK's middleware chain declares its answers to be. */
export function asResponse(answer: BufferedResponse): Response {
  return answer as unknown as Response;
}
