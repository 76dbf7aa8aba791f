import { ApiProperty } from '@nestjs/swagger';
import type { UserEntity } from '../entities/user.entity';

export class UserDto {
  @ApiProperty({ format: 'uuid', example: '0b5a6c1e-9b4e-4c3e-8f1a-2d7e5c9a1b3f' })
  id: string;

  @ApiProperty({ example: 'ada@example.com' })
  email: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  name: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  static from(user: UserEntity): UserDto {
    return { id: user.id, email: user.email, name: user.displayName, createdAt: user.createdAt.toISOString() };
  }
}
