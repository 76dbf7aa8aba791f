import { DisplayNameField, EmailField, NewPasswordField } from './account-fields';

export class SignupDto {
  @EmailField()
  email: string;

  @NewPasswordField()
  password: string;

  @DisplayNameField()
  name: string;
}
