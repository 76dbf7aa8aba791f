import { ConflictException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { isUniqueViolation } from '../../infra/database';
import type { LoginDto } from './dto/login.dto';
import type { SignupDto } from './dto/signup.dto';
import { UserEntity } from './entities/user.entity';
import { PasswordHasher } from './password-hasher';

@Injectable()
export class AccountsService {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly hasher: PasswordHasher,
  ) {}

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
    const user = await this.users.findOne({
      where: { email },
      select: { id: true, email: true, displayName: true, createdAt: true, updatedAt: true, passwordHash: true },
    });
    if (!user) return this.hasher.verifyNothing(password).then(() => null);
    return (await this.hasher.verify(user.passwordHash, password)) ? user : null;
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }
}
