export { AccountsModule } from './accounts.module';
export { AccountsService } from './accounts.service';
export { UserEntity } from './entities/user.entity';
