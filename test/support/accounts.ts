import { randomUUID } from 'node:crypto';
import type { HttpClient } from './http-client';

export const PASSWORD = 'correct horse battery staple';

export interface TestUser {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly password: string;
}

export const uniqueEmail = (prefix = 'user'): string => `${prefix}-${randomUUID()}@example.com`;

/** Signs up a fresh user through the API and signs `client` in as them. */
export async function signUpAndLogIn(client: HttpClient, name = 'Test User'): Promise<TestUser> {
  const email = uniqueEmail();
  const signup = await client.post('/auth/signup', { email, password: PASSWORD, name });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${signup.text}`);
  const login = await client.post('/auth/login', { email, password: PASSWORD });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { id: signup.body.id as string, email, name, password: PASSWORD };
}
