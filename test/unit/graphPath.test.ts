import * as assert from 'node:assert/strict';
import { GraphPathError, graphUrl, validateGraphPath } from '../../src/server/graph/graphPath';

describe('graph_get path validation', () => {
  const accepted: Array<[string, string]> = [
    ['/me', '/me'],
    ['me/messages', '/me/messages'],
    ["/users/MeganB@contoso.com/manager", '/users/MeganB@contoso.com/manager'],
    ["/me/drive/root:/Documents/report.docx:", '/me/drive/root:/Documents/report.docx:'],
    ["/sites/contoso.sharepoint.com,2c4a,4d6c/lists", '/sites/contoso.sharepoint.com,2c4a,4d6c/lists'],
    ["/users('87d349ed')/memberOf", "/users('87d349ed')/memberOf"],
    ['/me/drive/root:/a%20b.txt', '/me/drive/root:/a%20b.txt'],
  ];
  for (const [path, expected] of accepted) {
    it(`accepts ${path}`, () => assert.equal(validateGraphPath(path), expected));
  }

  const refused: string[] = [
    'https://evil.example/v1.0/me', 'http://graph.microsoft.com/v1.0/me', '//evil.example/me', 'javascript:alert(1)',
    '/me/../../admin', '/me/./messages', '/me//messages', '/me/%2e%2e/users', '/me%2fmessages', '/me%5cmessages',
    '/me/messages?$top=999', '/me#frag', '/me\r\nHost: evil.example', '/me messages', '/me\\..\\x', '/v1.0/me', '/beta/me',
    '/me/%252e%252e/x', '/me/\u0000', '', ' ', 'x'.repeat(1025), '/me/"quoted"', '/me/<script>',
  ];
  for (const path of refused) {
    it(`refuses ${JSON.stringify(path.slice(0, 40))}`, () => assert.throws(() => validateGraphPath(path), GraphPathError));
  }

  it('keeps the resolved URL on the endpoint and under the version', () => {
    assert.equal(graphUrl('https://graph.microsoft.com', 'v1.0', '/me/messages').href, 'https://graph.microsoft.com/v1.0/me/messages');
    assert.equal(graphUrl('https://proxy.contoso.com/graph', 'beta', '/me').href, 'https://proxy.contoso.com/graph/beta/me');
  });
});
