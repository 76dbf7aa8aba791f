import { BadRequestException, ConflictException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Counter, type Registry } from 'prom-client';
import type { Repository } from 'typeorm';
import { isUniqueViolation, readFromPrimary } from '../../infra/database';
import { InjectMetrics } from '../../infra/observability';
import type { ChangePasswordDto } from './dto/change-password.dto';
import type { LoginDto } from './dto/login.dto';
import type { SignupDto } from './dto/signup.dto';
import { UserEntity } from './entities/user.entity';
import { PasswordHasher } from './password-hasher';

type VerifyOutcome = 'match' | 'mismatch' | 'no_account';

const WITH_HASH = {
  id: true,
  email: true,
  displayName: true,
  createdAt: true,
  updatedAt: true,
  passwordHash: true,
} as const;

@Injectable()
export class AccountsService {
  private readonly verifications: Counter<'outcome'>;

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly hasher: PasswordHasher,
    @InjectMetrics() metrics: Registry,
  ) {
    this.verifications = new Counter({
      name: 'auth_password_verifications_total',
      help: 'argon2 verifications at login, by outcome; no_account verifies a dummy hash so timing is the same',
      labelNames: ['outcome'],
      registers: [metrics],
    });
  }

  async signup({ email, password, name }: SignupDto): Promise<UserEntity> {
    const passwordHash = await this.hasher.hash(password);
    try {
      return await this.users.save(this.users.create({ email, passwordHash, displayName: name }));
    } catch (err) {
      // The unique constraint decides, not a prior SELECT: two racing signups cannot both win.
      if (isUniqueViolation(err, 'users_email_key')) throw new ConflictException('email is already registered');
      throw err;
    }
  }

  /** The user for these credentials, or null; the same work is done whether or not the email exists. */
  async authenticate({ email, password }: LoginDto): Promise<UserEntity | null> {
    const user = await this.users.findOne({ where: { email }, select: WITH_HASH });
    const outcome: VerifyOutcome = !user
      ? await this.hasher.verifyNothing(password).then(() => 'no_account' as const)
      : (await this.hasher.verify(user.passwordHash, password))
        ? 'match'
        : 'mismatch';
    this.verifications.inc({ outcome });
    return outcome === 'match' ? user : null;
  }

  async changePassword(userId: string, { currentPassword, newPassword }: ChangePasswordDto): Promise<void> {
    // From the primary: a replica may still hold the hash from before a change a moment ago.
    const user = await readFromPrimary(() => this.users.findOne({ where: { id: userId }, select: WITH_HASH }));
    if (!user || !(await this.hasher.verify(user.passwordHash, currentPassword))) {
      throw new BadRequestException('currentPassword is incorrect');
    }
    if (currentPassword === newPassword) throw new BadRequestException('newPassword must differ from currentPassword');
    await this.users.update({ id: userId }, { passwordHash: await this.hasher.hash(newPassword) });
  }

  /** The user, or null. A miss is asked again of the primary: a replica may not have a brand-new account yet. */
  async findById(id: string): Promise<UserEntity | null> {
    return (await this.users.findOneBy({ id })) ?? readFromPrimary(() => this.users.findOneBy({ id }));
  }
}
