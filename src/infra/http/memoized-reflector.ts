import { Reflector } from '@nestjs/core';

// Kept for the keys a target has no metadata under, so that a miss is answered by one lookup too.
const NONE = Symbol('no metadata');

/**
 * Nest's Reflector with every answer kept. A route's metadata is fixed once its decorators have run, but
 * reflect-metadata answers each lookup with a walk of the target's metadata maps. For metadata read on every
 * request: the credential limits' `skipIf` asks for a route's @StrictRateLimit twice per request. `getAll*` go
 * through `get`, so they are kept too. Only for metadata set by decorators: a value set later with
 * Reflect.defineMetadata is not seen.
 */
export class MemoizedReflector extends Reflector {
  constructor() {
    super();
    const memo = new WeakMap<object, Map<unknown, unknown>>();
    const read = Reflector.prototype.get.bind(this) as (key: unknown, target: object) => unknown;
    // Assigned, not overridden: `get` keeps Reflector's typed overloads.
    this.get = ((key: unknown, target: object) => {
      let byKey = memo.get(target);
      if (!byKey) memo.set(target, (byKey = new Map()));
      const known = byKey.get(key);
      if (known !== undefined) return known === NONE ? undefined : known;
      const value = read(key, target);
      byKey.set(key, value === undefined ? NONE : value);
      return value;
    }) as Reflector['get'];
  }
}
