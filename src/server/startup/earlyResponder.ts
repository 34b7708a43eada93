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
    if (!this.initializeRequest) {
      return isRequest(message, 'initialize') && isInitializeParams(message.params)
        ? this.answerInitialize(message, message.id, message.params.protocolVersion)
        : undefined;
    }
    if (isNotification(message, 'notifications/initialized') && isEmptyParams(message.params) && !this.initializedNotification) {
      this.initializedNotification = message;
      return true;
    }
    if (isRequest(message, 'tools/list') && isEmptyParams(message.params)) {
      return answerTo(message.id, { tools: this.tools });
    }
    return undefined;
  }

  private answerInitialize(message: JsonRpcRequestLike, id: JsonRpcId, requested: string): EarlyResponse {
    this.initializeRequest = message;
    const { supportedProtocolVersions, latestProtocolVersion, initializeResult } = this.manifest;
    const protocolVersion = supportedProtocolVersions.includes(requested) ? requested : latestProtocolVersion;
    return answerTo(id, { protocolVersion, ...initializeResult });
  }
}

/** Members in the SDK's order, so the line written is the SDK's byte for byte. */
function answerTo(id: JsonRpcId, result: Record<string, unknown>): EarlyResponse {
  return { result, jsonrpc: '2.0', id };
}

/*
 * The checks below accept a strict subset of what the SDK's schemas accept (JSONRPCMessageSchema,
 * InitializeRequestSchema, ListToolsRequestSchema): whatever they let through, the SDK answers the
 * same way, byte for byte; everything else goes to the SDK, which answers or refuses it properly.
 * A property test holds them to the SDK's schemas. Hand-written because zod would make this
 * entry many times larger.
 */

const REQUEST_MEMBERS = ['jsonrpc', 'id', 'method', 'params'];
const NOTIFICATION_MEMBERS = ['jsonrpc', 'method', 'params'];

function isRequest(message: JsonRpcRequestLike, method: string): message is JsonRpcRequestLike & { id: JsonRpcId } {
  return message.jsonrpc === '2.0' && message.method === method && isId(message.id) && hasOnly(message, REQUEST_MEMBERS);
}

function isNotification(message: JsonRpcRequestLike, method: string): boolean {
  return message.jsonrpc === '2.0' && message.method === method && !('id' in message) && hasOnly(message, NOTIFICATION_MEMBERS);
}

/** A string, or an integer JSON carries exactly: a larger one would come back as another number. */
function isId(id: unknown): id is JsonRpcId {
  return typeof id === 'string' || Number.isSafeInteger(id);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** Only the given own members, each with a value (JSON has no undefined; objects built in code might). */
function hasOnly(value: object, members: readonly string[]): boolean {
  return Object.keys(value).every(key => members.includes(key) && (value as Record<string, unknown>)[key] !== undefined);
}

function isOptional(value: Record<string, unknown>, key: string, check: (member: unknown) => boolean): boolean {
  return !(key in value) || check(value[key]);
}

const isString = (value: unknown): boolean => typeof value === 'string';
const isEmptyObject = (value: unknown): boolean => isObject(value) && Object.keys(value).length === 0;

/** No params, or `{}`: a `_meta` or a cursor goes to the SDK. */
function isEmptyParams(params: unknown): boolean {
  return params === undefined || isEmptyObject(params);
}

/** What ordinary clients send: the three required members, and the capabilities VS Code declares. */
function isInitializeParams(params: unknown): params is { protocolVersion: string } {
  return isObject(params) && hasOnly(params, ['protocolVersion', 'capabilities', 'clientInfo']) &&
    typeof params.protocolVersion === 'string' && isClientCapabilities(params.capabilities) && isClientInfo(params.clientInfo);
}

function isClientCapabilities(value: unknown): boolean {
  return isObject(value) && hasOnly(value, ['roots', 'sampling', 'elicitation']) &&
    isOptional(value, 'roots', roots => isObject(roots) && hasOnly(roots, ['listChanged']) && isOptional(roots, 'listChanged', changed => typeof changed === 'boolean')) &&
    isOptional(value, 'sampling', isEmptyObject) &&
    isOptional(value, 'elicitation', isEmptyObject);
}

function isClientInfo(value: unknown): boolean {
  return isObject(value) && hasOnly(value, ['name', 'version', 'title']) &&
    isString(value.name) && isString(value.version) && isOptional(value, 'title', isString);
}
