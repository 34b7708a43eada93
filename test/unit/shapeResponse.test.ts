import * as assert from 'node:assert/strict';
import { MAX_COLLECTION_ITEMS, MAX_RESULT_CHARS, shapeGraphResponse } from '../../src/server/graph/shapeResponse';

describe('Graph response shaping', () => {
  it('strips OData bookkeeping and reports more pages', () => {
    const shaped = shapeGraphResponse({
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users', '@odata.nextLink': 'https://graph.microsoft.com/v1.0/users?$skiptoken=x',
      value: [{ '@odata.etag': 'W/"1"', '@odata.type': '#microsoft.graph.user', id: '1' }],
    });
    assert.deepEqual(shaped, { kind: 'collection', items: [{ '@odata.type': '#microsoft.graph.user', id: '1' }], hasMore: true, note: shaped.note });
    assert.match(String(shaped.note), /more exist/);
  });

  it('caps collections and says how to narrow them', () => {
    const shaped = shapeGraphResponse({ value: Array.from({ length: 80 }, (_, i) => ({ id: String(i) })) });
    assert.equal(shaped.kind, 'collection');
    assert.equal((shaped.items as unknown[]).length, MAX_COLLECTION_ITEMS);
    assert.equal(shaped.hasMore, true);
  });

  it('keeps results under the size limit', () => {
    const big = shapeGraphResponse({ value: Array.from({ length: 40 }, (_, i) => ({ id: String(i), body: 'x'.repeat(10_000) })) });
    assert.ok(JSON.stringify(big).length < MAX_RESULT_CHARS + 1000);
    const entity = shapeGraphResponse({ id: '1', body: 'y'.repeat(200_000) });
    assert.ok(JSON.stringify(entity).length < MAX_RESULT_CHARS + 1000);
    assert.match(String(entity.note), /truncated/);
  });

  it('returns a plain entity as is', () => {
    assert.deepEqual(shapeGraphResponse({ '@odata.context': 'x', id: '1', displayName: 'Megan' }), { kind: 'entity', item: { id: '1', displayName: 'Megan' } });
  });
});
