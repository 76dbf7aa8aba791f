import type { IncomingMessage } from 'node:http';
import { requestIdFor } from './request-id';

const req = (id?: string | string[]) =>
  ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as IncomingMessage;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFor', () => {
  it('keeps a well-formed incoming id', () => {
    expect(requestIdFor(req('gw-1:abc.123'))).toBe('gw-1:abc.123');
  });
  it('mints a UUID when none is sent', () => {
    expect(requestIdFor(req())).toMatch(UUID);
    expect(requestIdFor(req())).not.toBe(requestIdFor(req()));
  });
  it.each([['has space'], ['x'.repeat(129)], ['line\nbreak'], ['']])('replaces an unsafe id %j', (id) => {
    expect(requestIdFor(req(id))).toMatch(UUID);
  });
  it('replaces a repeated header', () => {
    expect(requestIdFor(req(['a', 'b']))).toMatch(UUID);
  });
});
