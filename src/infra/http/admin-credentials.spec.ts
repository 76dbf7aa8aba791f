import { isAdminAuthorized } from './admin-credentials';

const TOKEN = 'a'.repeat(40);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('isAdminAuthorized', () => {
  it('accepts the token as a bearer token or as the Basic password', () => {
    expect(isAdminAuthorized(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(isAdminAuthorized(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(isAdminAuthorized(basic('admin', TOKEN), TOKEN)).toBe(true);
    expect(isAdminAuthorized(basic('anyone', TOKEN), TOKEN)).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['a wrong token', `Bearer ${'b'.repeat(40)}`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 39)}`],
    ['the token with more after it', `Bearer ${TOKEN}x`],
    ['the token as Basic user name', basic(TOKEN, '')],
    ['Basic without a colon', `Basic ${Buffer.from(TOKEN).toString('base64')}`],
    ['another scheme', `Token ${TOKEN}`],
    ['a bare token', TOKEN],
  ])('rejects %s', (_, header) => {
    expect(isAdminAuthorized(header, TOKEN)).toBe(false);
  });
});
