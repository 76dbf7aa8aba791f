import { SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { MemoizedReflector } from './memoized-reflector';

const ROLE = 'role';
const Roles = Reflector.createDecorator<string[]>();

class Controller {
  @SetMetadata(ROLE, 'admin')
  @Roles(['a', 'b'])
  guarded(): void {}

  open(): void {}
}

describe('MemoizedReflector', () => {
  const plain = new Reflector();

  it('answers as Reflector does, for keys and decorators, on handlers and classes', () => {
    const memoized = new MemoizedReflector();
    for (let round = 0; round < 2; round++) {
      for (const target of [Controller.prototype.guarded, Controller.prototype.open, Controller]) {
        expect(memoized.get(ROLE, target)).toEqual(plain.get(ROLE, target));
        expect(memoized.get(Roles, target)).toEqual(plain.get(Roles, target));
      }
      expect(memoized.getAllAndOverride(ROLE, [Controller.prototype.open, Controller.prototype.guarded])).toBe('admin');
      expect(memoized.getAllAndOverride(ROLE, [Controller.prototype.open, Controller])).toBeUndefined();
    }
  });

  it('reads each key of each target once', () => {
    const read = jest.spyOn(Reflector.prototype, 'get');
    const memoized = new MemoizedReflector();
    try {
      for (let i = 0; i < 5; i++) {
        memoized.get(ROLE, Controller.prototype.guarded);
        memoized.get(ROLE, Controller.prototype.open);
      }
      // Reflector's own `get` runs once per (key, target), however often it is asked.
      const reads = read.mock.calls.length;
      expect(reads).toBe(2);
      expect(memoized.get(ROLE, Controller.prototype.guarded)).toBe('admin');
      expect(read.mock.calls.length).toBe(reads);
    } finally {
      read.mockRestore();
    }
  });
});
