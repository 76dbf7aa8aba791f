import { EmailField, PasswordField } from './account-fields';

export class LoginDto {
  @EmailField()
  email: string;

  // Any length may be tried at login; the minimum applies when a password is chosen.
  @PasswordField(1)
  password: string;
}
