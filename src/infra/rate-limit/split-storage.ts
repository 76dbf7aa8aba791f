import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';

type Storage = ThrottlerStorage & { onModuleDestroy?(): void | Promise<void> };

/** @nestjs/throttler takes one storage for all its throttlers; this one hands each throttler (by name) its own. */
export class SplitThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly byName: Readonly<Record<string, Storage>>,
    private readonly otherwise: Storage,
  ) {}

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<ThrottlerStorageRecord> {
    return (this.byName[name] ?? this.otherwise).increment(key, ttl, limit, blockDuration, name);
  }

  async onModuleDestroy(): Promise<void> {
    for (const storage of new Set([...Object.values(this.byName), this.otherwise])) await storage.onModuleDestroy?.();
  }
}
