import { isCommonPassword } from './password-policy';

describe('isCommonPassword', () => {
  it.each(['password123', 'qwertyuiop', '1q2w3e4r5t', 'Basketball', 'PASSWORD123'])('flags %s', (p) => {
    expect(isCommonPassword(p)).toBe(true);
  });
  it.each(['correct horse battery staple', 'tR7#kq!Lm2vZ', 'my cat eats 3 lemons'])('accepts %s', (p) => {
    expect(isCommonPassword(p)).toBe(false);
  });
});
