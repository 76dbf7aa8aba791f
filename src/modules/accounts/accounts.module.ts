import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SessionModule } from '../../infra/session';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { UserEntity } from './entities/user.entity';
import { PasswordHasher } from './password-hasher';

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity]), SessionModule],
  controllers: [AccountsController],
  providers: [AccountsService, PasswordHasher],
  exports: [AccountsService],
})
export class AccountsModule {}
