import assert from 'node:assert/strict';
import { it } from 'node:test';
import { md5OfAttributes } from './md5.ts';

// Digests other SQS implementations check against (AWS's SellerName example among them): ours must agree.
it('the MD5 of message attributes is SQS\'s', () => {
  assert.equal(md5OfAttributes({ SellerName: { DataType: 'String', StringValue: 'Example Store' } }), 'cd28f3b68aeee4b2eac9c66f2f694b58');
  assert.equal(md5OfAttributes({ timestamp: { DataType: 'Number', StringValue: '1493147359900' } }), '235c5c510d26fb653d073faed50ae77c');
  // Two attributes, given out of name order: sorted before hashing.
  assert.equal(md5OfAttributes({ ordinal: { DataType: 'Number', StringValue: '1' }, category: { DataType: 'String', StringValue: 'test' } }), 'd21ae90c49061e927f57df5f5d72be1f');
  assert.equal(md5OfAttributes({}), null);
});
