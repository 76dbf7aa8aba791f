import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { type AppConfig, InjectConfig } from '../../config';

@Injectable()
export class PasswordHasher {
  private readonly options: argon2.HashOptions & { raw?: false };
  private dummyHash?: Promise<string>;

  constructor(@InjectConfig() config: AppConfig) {
    // OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane) unless configured otherwise.
    this.options = {
      type: argon2.argon2id,
      memoryCost: config.passwordHash.memoryKib,
      timeCost: config.passwordHash.iterations,
      parallelism: 1,
    };
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, this.options);
  }

  verify(hash: string, password: string): Promise<boolean> {
    return argon2.verify(hash, password);
  }

  /** Burns the same time as a real verify, so an unknown email cannot be told apart by latency. */
  async verifyNothing(password: string): Promise<false> {
    this.dummyHash ??= this.hash(randomBytes(32).toString('base64'));
    await argon2.verify(await this.dummyHash, password);
    return false;
  }
}
