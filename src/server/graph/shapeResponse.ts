/**
 * Shapes Graph responses for the model's context: OData bookkeeping removed, collections capped,
 * and the whole result kept under a size limit with a note saying how to get the rest.
 */
export const MAX_RESULT_CHARS = 60_000;
export const MAX_COLLECTION_ITEMS = 50;

export interface ShapedCollection {
  kind: 'collection';
  items: Record<string, unknown>[];
  hasMore: boolean;
  note?: string;
  [key: string]: unknown;
}

export interface ShapedEntity {
  kind: 'entity';
  item: Record<string, unknown>;
  note?: string;
  [key: string]: unknown;
}

/** Deeper values are left out: Graph's own resources nest a handful of levels, and deeper JSON would overflow the stack when serialised. */
export const MAX_JSON_DEPTH = 32;
const DEPTH_MARKER = '[nested too deeply: left out]';
const DEPTH_NOTE = `Values nested more than ${MAX_JSON_DEPTH} levels deep were left out.`;

export function shapeGraphResponse(body: unknown): ShapedCollection | ShapedEntity {
  const depth = { cut: false };
  const record = isRecord(body) ? body : { value: body };
  const shaped = Array.isArray(record.value)
    ? shapeCollection(record.value.filter(isRecord).map(item => withoutODataNoise(withinDepth(item, 1, depth) as Record<string, unknown>)),
      typeof record['@odata.nextLink'] === 'string')
    : shapeEntity(withoutODataNoise(withinDepth(record, 0, depth) as Record<string, unknown>));
  if (depth.cut) {
    shaped.note = shaped.note ? `${shaped.note} ${DEPTH_NOTE}` : DEPTH_NOTE;
  }
  return shaped;
}

/** `value` with anything below MAX_JSON_DEPTH replaced by a marker; only the offending branch of one item loses data. */
function withinDepth(value: unknown, depth: number, state: { cut: boolean }): unknown {
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  if (depth >= MAX_JSON_DEPTH) {
    state.cut = true;
    return DEPTH_MARKER;
  }
  if (Array.isArray(value)) {
    return value.map(entry => withinDepth(entry, depth + 1, state));
  }
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, withinDepth(entry, depth + 1, state)]));
}

function shapeCollection(all: Record<string, unknown>[], serverHasMore: boolean): ShapedCollection {
  let items = all.slice(0, MAX_COLLECTION_ITEMS);
  while (items.length > 1 && JSON.stringify(items).length > MAX_RESULT_CHARS) {
    items = items.slice(0, Math.ceil(items.length / 2));
  }
  const truncated = items.length < all.length;
  const hasMore = truncated || serverHasMore;
  const result: ShapedCollection = { kind: 'collection', items, hasMore };
  if (hasMore) {
    result.note = `Showing ${items.length} item(s); more exist. Narrow the request with filter or select, or lower top.`;
  }
  if (items.length === 1 && JSON.stringify(items).length > MAX_RESULT_CHARS) {
    result.items = [truncateEntity(items[0])];
    result.note = 'The item was truncated to fit. Use select to ask for fewer fields.';
  }
  return result;
}

function shapeEntity(item: Record<string, unknown>): ShapedEntity {
  if (JSON.stringify(item).length <= MAX_RESULT_CHARS) {
    return { kind: 'entity', item };
  }
  return { kind: 'entity', item: truncateEntity(item), note: 'Large values were truncated to fit. Use select to ask for fewer fields.' };
}

/** Cuts long strings and drops nested values past the budget, field by field. */
function truncateEntity(item: Record<string, unknown>): Record<string, unknown> {
  const perField = Math.max(200, Math.floor(MAX_RESULT_CHARS / Math.max(1, Object.keys(item).length)));
  return Object.fromEntries(Object.entries(item).map(([key, value]) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
    if (text.length <= perField) {
      return [key, value];
    }
    return [key, `${text.slice(0, perField)}… [truncated ${text.length - perField} characters]`];
  }));
}

function withoutODataNoise(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !key.startsWith('@odata.') || key === '@odata.type'));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
