import { DisplayNameField, EmailField, PASSWORD_MIN_LENGTH, PasswordField } from './account-fields';

export class SignupDto {
  @EmailField()
  email: string;

  @PasswordField(PASSWORD_MIN_LENGTH)
  password: string;

  @DisplayNameField()
  name: string;
}
