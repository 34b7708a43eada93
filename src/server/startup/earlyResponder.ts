/**
 * Answers the first two requests of a session, `initialize` and `tools/list`, from the startup
 * manifest, exactly as the SDK would (a unit test compares the two). Anything else, or anything
 * not plainly well-formed, is left for the SDK, which is loaded right after.
 */
import { ToolSelection, isToolEnabled, toolDeclaration } from '../../shared/toolCatalogue';
import { StartupManifest } from './manifest';

type JsonRpcId = string | number;

export interface JsonRpcRequestLike {
  readonly jsonrpc?: unknown;
  readonly id?: unknown;
  readonly method?: unknown;
  readonly params?: unknown;
}

export interface EarlyResponse {
  readonly jsonrpc: '2.0';
  readonly id: JsonRpcId;
  readonly result: Record<string, unknown>;
}

export class EarlyResponder {
  /** The `initialize` request answered here, replayed to the SDK so its session state matches. */
  initializeRequest: JsonRpcRequestLike | undefined;
  /** The `notifications/initialized` consumed here, replayed after it. */
  initializedNotification: JsonRpcRequestLike | undefined;
  private readonly tools: ReadonlyArray<Record<string, unknown>>;

  constructor(private readonly manifest: StartupManifest, selection: ToolSelection) {
    this.tools = manifest.tools.filter(tool => isToolEnabled(toolDeclaration(tool.name), selection));
  }

  /**
   * The answer to `message`, or undefined when the SDK must handle it. A `true` means consumed
   * without an answer (the initialized notification).
   */
  answer(message: JsonRpcRequestLike): EarlyResponse | true | undefined {
    if (message.jsonrpc !== '2.0') {
      return undefined;
    }
    if (!this.initializeRequest) {
      return message.method === 'initialize' && isId(message.id) && isInitializeParams(message.params)
        ? this.answerInitialize(message, message.id, message.params.protocolVersion)
        : undefined;
    }
    if (message.method === 'notifications/initialized' && message.id === undefined && !this.initializedNotification) {
      this.initializedNotification = message;
      return true;
    }
    if (message.method === 'tools/list' && isId(message.id) && isFirstPage(message.params)) {
      return { jsonrpc: '2.0', id: message.id, result: { tools: this.tools } };
    }
    return undefined;
  }

  private answerInitialize(message: JsonRpcRequestLike, id: JsonRpcId, requested: string): EarlyResponse {
    this.initializeRequest = message;
    const { supportedProtocolVersions, latestProtocolVersion, initializeResult } = this.manifest;
    const protocolVersion = supportedProtocolVersions.includes(requested) ? requested : latestProtocolVersion;
    return { jsonrpc: '2.0', id, result: { protocolVersion, ...initializeResult } };
  }
}

function isId(id: unknown): id is JsonRpcId {
  return typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The fields the SDK's schema requires; anything odd goes to the SDK, which reports it properly. */
function isInitializeParams(params: unknown): params is { protocolVersion: string } {
  return isObject(params) && typeof params.protocolVersion === 'string' && isObject(params.capabilities) &&
    isObject(params.clientInfo) && typeof params.clientInfo.name === 'string' && typeof params.clientInfo.version === 'string';
}

/** A `tools/list` without a cursor: the SDK lists every tool on one page. */
function isFirstPage(params: unknown): boolean {
  return params === undefined || (isObject(params) && params.cursor === undefined);
}
