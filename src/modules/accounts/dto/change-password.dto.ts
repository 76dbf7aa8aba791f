import { NewPasswordField, PasswordField } from './account-fields';

export class ChangePasswordDto {
  @PasswordField(1)
  currentPassword: string;

  @NewPasswordField()
  newPassword: string;
}
